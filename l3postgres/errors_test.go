package l3postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMapErr(t *testing.T) {
	t.Parallel()
	unique := &pgconn.PgError{Code: "23505", Message: "duplicate key"}
	tests := []struct {
		name        string
		in          error
		unavailable bool
		notFound    bool
	}{
		{name: "no rows", in: pgx.ErrNoRows, notFound: true},
		{name: "unique violation", in: unique},
		{name: "admin shutdown", in: &pgconn.PgError{Code: "57P01"}, unavailable: true},
		{name: "connection failure class", in: &pgconn.PgError{Code: "08006"}, unavailable: true},
		{name: "too many connections", in: &pgconn.PgError{Code: "53300"}, unavailable: true},
		{name: "syntax error", in: &pgconn.PgError{Code: "42601"}},
		{name: "refused", in: &net.OpError{Op: "dial", Err: errors.New("connection refused")}, unavailable: true},
		{name: "eof", in: fmt.Errorf("read: %w", io.ErrUnexpectedEOF), unavailable: true},
		{name: "closed pool", in: errors.New("closed pool"), unavailable: true},
		{name: "deadline", in: fmt.Errorf("timeout: %w", context.DeadlineExceeded)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := l3postgres.MapErr(tt.in)
			if !errors.Is(got, tt.in) {
				t.Errorf("cause lost: %v", got)
			}
			if errors.Is(got, l3postgres.ErrUnavailable) != tt.unavailable {
				t.Errorf("ErrUnavailable = %v, want %v (%v)", !tt.unavailable, tt.unavailable, got)
			}
			if errors.Is(got, l3postgres.ErrNotFound) != tt.notFound {
				t.Errorf("ErrNotFound = %v, want %v (%v)", !tt.notFound, tt.notFound, got)
			}
		})
	}
	var pgErr *pgconn.PgError
	if !errors.As(l3postgres.MapErr(unique), &pgErr) || pgErr.Code != "23505" {
		t.Fatal("PgError not reachable with errors.As")
	}
	if l3postgres.MapErr(nil) != nil {
		t.Fatal("nil not kept")
	}
}

func TestMapErrServerSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   *pgconn.PgError
		want error // nil: returned unchanged
	}{
		{&pgconn.PgError{Code: "23505", ConstraintName: "t_email_key", TableName: "t"}, l3postgres.ErrConflict},
		{&pgconn.PgError{Code: "23P01", ConstraintName: "t_excl"}, l3postgres.ErrConflict},
		{&pgconn.PgError{Code: "42P01"}, l3postgres.ErrUndefined},
		{&pgconn.PgError{Code: "42703"}, l3postgres.ErrUndefined},
		{&pgconn.PgError{Code: "22021"}, l3postgres.ErrInvalidValue},
		{&pgconn.PgError{Code: "22008"}, l3postgres.ErrInvalidValue},
		{&pgconn.PgError{Code: "23502"}, l3postgres.ErrConstraint},
		{&pgconn.PgError{Code: "23503"}, l3postgres.ErrConstraint},
		{&pgconn.PgError{Code: "42601"}, nil},
		{&pgconn.PgError{Code: "40001"}, nil},
	}
	all := []error{l3postgres.ErrConflict, l3postgres.ErrUndefined, l3postgres.ErrInvalidValue, l3postgres.ErrConstraint}
	for _, tt := range tests {
		got := l3postgres.MapErr(tt.in)
		for _, s := range all {
			if errors.Is(got, s) != (s == tt.want) {
				t.Errorf("MapErr(SQLSTATE %s): errors.Is(%v) = %v", tt.in.Code, s, !(s == tt.want))
			}
		}
		var pgErr *pgconn.PgError
		if !errors.As(got, &pgErr) || pgErr != tt.in {
			t.Errorf("MapErr(SQLSTATE %s): PgError not reachable: %v", tt.in.Code, got)
		}
		if l3postgres.MapErr(got) != got {
			t.Errorf("MapErr(SQLSTATE %s) is not idempotent", tt.in.Code)
		}
	}
	var ce *l3postgres.ConflictError
	if !errors.As(l3postgres.MapErr(tests[0].in), &ce) || ce.Constraint != "t_email_key" || ce.Table != "t" {
		t.Fatalf("ConflictError = %+v, want the constraint and table", ce)
	}
}
