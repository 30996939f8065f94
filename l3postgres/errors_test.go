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
