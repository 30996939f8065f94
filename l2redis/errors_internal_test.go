package l2redis

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"
)

// replyError is an error reply as go-redis types them.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestClassify(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name        string
		ctx         context.Context
		in          error
		is          []error
		notIs       []error
		wantMessage string
	}{
		{name: "nil", ctx: context.Background(), in: nil},
		{name: "redis.Nil is not found", ctx: context.Background(), in: redis.Nil, is: []error{ErrNotFound}, notIs: []error{redis.Nil, ErrUnavailable}},
		{name: "dial error", ctx: context.Background(), in: opErr, is: []error{ErrUnavailable, opErr}},
		{name: "EOF", ctx: context.Background(), in: io.EOF, is: []error{ErrUnavailable, io.EOF}},
		{name: "closed client", ctx: context.Background(), in: redis.ErrClosed, is: []error{ErrUnavailable, redis.ErrClosed}},
		{name: "caller cancelled", ctx: cancelled, in: context.Canceled, is: []error{context.Canceled}, notIs: []error{ErrUnavailable}},
		{name: "failure after the caller's context ended", ctx: cancelled, in: opErr, is: []error{context.Canceled, opErr}, notIs: []error{ErrUnavailable}},
		{name: "miss after the caller's context ended", ctx: cancelled, in: redis.Nil, is: []error{ErrNotFound}},
		{name: "deadline without caller's ctx is a timeout", ctx: context.Background(), in: context.DeadlineExceeded, is: []error{ErrUnavailable}},
		{name: "LOADING", ctx: context.Background(), in: replyError("LOADING Redis is loading the dataset in memory"), is: []error{ErrUnavailable}},
		{name: "CLUSTERDOWN", ctx: context.Background(), in: replyError("CLUSTERDOWN The cluster is down"), is: []error{ErrUnavailable}},
		{name: "READONLY", ctx: context.Background(), in: replyError("READONLY You can't write against a read only replica."), is: []error{ErrUnavailable}},
		{
			name: "WRONGTYPE is the caller's", ctx: context.Background(),
			in:          replyError("WRONGTYPE Operation against a key holding the wrong kind of value"),
			notIs:       []error{ErrUnavailable, ErrNotFound},
			wantMessage: "l2redis: WRONGTYPE Operation against a key holding the wrong kind of value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := classify(tt.ctx, tt.in)
			if (got == nil) != (tt.in == nil) {
				t.Fatalf("classify(%v) = %v", tt.in, got)
			}
			for _, target := range tt.is {
				if !errors.Is(got, target) {
					t.Errorf("classify(%v) = %v, want errors.Is %v", tt.in, got, target)
				}
			}
			for _, target := range tt.notIs {
				if errors.Is(got, target) {
					t.Errorf("classify(%v) = %v, want not errors.Is %v", tt.in, got, target)
				}
			}
			if tt.wantMessage != "" && got.Error() != tt.wantMessage {
				t.Errorf("message = %q, want %q", got.Error(), tt.wantMessage)
			}
		})
	}
}

func TestEscapeGlob(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"strata:players:", "strata:players:"},
		{"a*b?c", `a\*b\?c`},
		{`[x]\`, `\[x\]\\`},
	}
	for _, tt := range tests {
		if got := escapeGlob(tt.in); got != tt.want {
			t.Errorf("escapeGlob(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
