package testenv

import (
	"testing"

	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// Postgres is a PostgreSQL server of the test's own, which the test may stop
// and start again (the shared devstack server must never be stopped).
type Postgres struct {
	DSN string
	t   testing.TB
	s   *pgkit.Server
}

// StartPostgres initialises and starts a throwaway PostgreSQL server on a
// free loopback port, and removes it when the test ends. It is gated like
// PostgresDSN.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	s := pgkit.StartServer(t)
	return &Postgres{DSN: s.DSN, t: t, s: s}
}

// Start starts the server (again) and waits until it answers.
func (p *Postgres) Start() {
	p.t.Helper()
	if err := p.s.Start(); err != nil {
		p.t.Fatal(err)
	}
}

// Stop stops the server at once (fast shutdown: clients are disconnected).
func (p *Postgres) Stop() {
	p.t.Helper()
	if err := p.s.Stop(); err != nil {
		p.t.Fatal(err)
	}
}
