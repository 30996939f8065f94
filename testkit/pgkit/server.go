package pgkit

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/testkit"
)

// Server is a PostgreSQL server of the test's own, on a free loopback port,
// which the test may stop, freeze, kill and start again in place (the
// shared devstack server must never be disturbed).
type Server struct {
	DSN string // the postgres database as the user postgres
	pg  *testkit.PGCluster
}

// StartServer initialises and starts a throw-away server, and removes it
// when tb ends. It is gated like testkit.PostgresDSN: a run that provides
// the test server can start servers too.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	testkit.PostgresDSN(tb)
	root, err := os.MkdirTemp("", "strata-test-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(root) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := testkit.InitPG(ctx, root)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{pg: pg}
	tb.Cleanup(func() { // registered after the removal, so it runs first
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = pg.Stop(ctx, "immediate")
	})
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Start starts the server (again, on the same port) and waits until it
// answers a query.
func (s *Server) Start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := s.pg.Start(ctx); err != nil {
		return err
	}
	s.DSN = s.pg.DSN("postgres")
	return WaitReady(ctx, s.DSN)
}

// Stop stops the server at once (fast shutdown: clients are disconnected)
// and waits until it has exited.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return s.pg.Stop(ctx, "fast")
}

// Freeze stops the postmaster and every backend with SIGSTOP (see
// testkit.PGCluster.Freeze).
func (s *Server) Freeze() error { return s.pg.Freeze() }

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.pg.Thaw() }

// Kill SIGKILLs the postmaster and every backend and waits until they are
// gone; Start brings the server back on the same port and data.
func (s *Server) Kill() error { return s.pg.Kill() }

// Cluster is the server's launcher, for what Server does not wrap.
func (s *Server) Cluster() *testkit.PGCluster { return s.pg }

// PID returns the postmaster's pid.
func (s *Server) PID() (int, error) { return s.pg.PID() }

// WaitReady polls dsn until a connection succeeds or ctx ends.
func WaitReady(ctx context.Context, dsn string) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(cctx, dsn)
		if err == nil {
			conn.Close(cctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgkit: postgres did not answer: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
