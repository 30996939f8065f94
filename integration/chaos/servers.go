package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// Servers are the PostgreSQL and Redis a run owns, started by the test kit
// (testkit.PGCluster, rediskit.Server) on servers of their own — never the
// shared devstack, since the suite freezes, kills and restarts them. The
// kit reaches each server's whole process tree (PostgreSQL's backends call
// setsid, so a signal to the postmaster alone would leave them answering)
// and restarts a server in place, on its port and data directory.
type Servers struct {
	// PG runs with fsync off (the machine does not crash), synchronous
	// commit on (a killed server must keep what it acknowledged), and
	// logical replication on for the change feed.
	PG *testkit.PGCluster
	// Redis keeps nothing on disk: a restart empties it, as a cache that
	// lost its memory.
	Redis *rediskit.Server
	root  string
}

// pgSettings are the suite's PostgreSQL settings, beyond the kit's.
var pgSettings = []string{
	"synchronous_commit=on",
	"full_page_writes=off",
	"max_connections=300",
	"wal_level=logical",
	"max_replication_slots=20",
	"max_wal_senders=20",
	"wal_writer_delay=10ms",
}

// StartServers starts both servers (side by side) in a new temporary
// directory. A missing server program is an error wrapping
// testkit.ErrNoPostgresBinaries or rediskit.ErrNoRedisServer.
func StartServers(ctx context.Context) (*Servers, error) {
	root, err := os.MkdirTemp("", "strata-chaos-")
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := os.Chmod(root, 0o755); err != nil { // PostgreSQL may run as another user
		_ = os.RemoveAll(root)
		return nil, fmt.Errorf("chaos: %w", err)
	}
	s := &Servers{root: root}
	pgDone := make(chan error, 1)
	go func() { pgDone <- s.startPG(ctx) }()
	rerr := s.startRedis()
	if err := errors.Join(<-pgDone, rerr); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Servers) startPG(ctx context.Context) error {
	dir := s.root + "/pg"
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	pg, err := testkit.InitPG(ctx, dir)
	if err != nil {
		return err
	}
	pg.Settings = pgSettings
	if err := pg.Start(ctx); err != nil {
		return err
	}
	s.PG = pg
	return nil
}

func (s *Servers) startRedis() error {
	dir := s.root + "/redis"
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	rd, err := rediskit.Launch(dir, "", nil)
	if err != nil {
		return err
	}
	s.Redis = rd
	return nil
}

// PGAddr is PostgreSQL's host:port.
func (s *Servers) PGAddr() string { return "127.0.0.1:" + strconv.Itoa(s.PG.Port) }

// PGDSN connects straight to PostgreSQL (not through a proxy).
func (s *Servers) PGDSN() string { return DSNFor(s.PGAddr()) }

// DSNFor is the suite's connection string for a server or proxy address.
func DSNFor(addr string) string {
	return "postgres://postgres@" + addr + "/postgres?sslmode=disable&connect_timeout=5"
}

// RedisClient is a direct client of Redis (not through a proxy), which
// honours deadlines and never retries.
func (s *Servers) RedisClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Redis.Addr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, ContextTimeoutEnabled: true})
}

// RestartPG kills PostgreSQL — the postmaster and every backend, as a crash
// would — and starts it again on its data and port, through crash recovery.
func (s *Servers) RestartPG(ctx context.Context) error {
	if err := s.PG.Kill(); err != nil {
		return err
	}
	return s.PG.Start(ctx)
}

// RestartRedis kills Redis and starts it again, empty, on its port.
func (s *Servers) RestartRedis() error {
	s.Redis.Kill()
	return s.Redis.Start()
}

// Thaw resumes both servers, whether frozen or not; one that is not
// running is left as it is.
func (s *Servers) Thaw() {
	_ = s.PG.Thaw()
	_ = s.Redis.Thaw()
}

// Close stops both servers and removes their directory.
func (s *Servers) Close() {
	if s.PG != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.PG.Stop(ctx, "fast"); err != nil {
			_ = s.PG.Kill()
		}
		cancel()
	}
	if s.Redis != nil {
		s.Redis.Stop()
	}
	_ = os.RemoveAll(s.root)
}
