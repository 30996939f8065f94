package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/AndrewDonelson/strata/strata"
)

const pingLong = `Check that each configured server answers, the way the library's
DataStore.Ping does for readiness probes: Redis (every master of a
Cluster, or the master the Sentinels name) and the PostgreSQL primary.
Each server is checked on its own, concurrently, and gets one line with
the time it took or the reason it failed (refused connection, wrong
password, unknown database, timeout).

Exits with status 1 when a server does not answer.`

func newPing(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Check that Redis and PostgreSQL answer",
		Long:  pingLong,
		Example: `  strata ping
  strata ping --timeout 2s --redis-addr cache:6379   # Redis only (if STRATA_POSTGRES_DSN is unset)`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return ping(cmd, o) },
	}
}

// pingTarget is one server to ping.
type pingTarget struct {
	tier, where string
	cfg         strata.Config
	took        time.Duration
	err         error
}

func ping(cmd *cobra.Command, o *options) error {
	var targets []*pingTarget
	if o.redisAddr != "" {
		cfg := o.config()
		cfg.PostgresDSN = ""
		targets = append(targets, &pingTarget{tier: "redis", where: o.redisAddr, cfg: cfg})
	}
	if o.postgresDSN != "" {
		cfg := o.config()
		cfg.RedisAddr = ""
		targets = append(targets, &pingTarget{tier: "postgresql", where: describeDSN(o.postgresDSN), cfg: cfg})
	}
	if len(targets) == 0 {
		return usageError{fmt.Errorf("nothing to ping: give --postgres-dsn or --redis-addr (or set %s, %s)", envPostgresDSN, envRedisAddr)}
	}
	ctx, cancel := o.withTimeout(cmd.Context())
	defer cancel()
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.took, t.err = pingOne(ctx, t.cfg)
		}()
	}
	wg.Wait()
	out := cmd.OutOrStdout()
	failed := false
	for _, t := range targets {
		if t.err != nil {
			failed = true
			fmt.Fprintf(out, "%-11s %s  FAILED: %v\n", t.tier, t.where, t.err)
			continue
		}
		fmt.Fprintf(out, "%-11s %s  ok (%s)\n", t.tier, t.where, t.took.Round(10*time.Microsecond))
	}
	if failed {
		return errProblem
	}
	return nil
}

// pingOne pings the one server of cfg through a DataStore.
func pingOne(ctx context.Context, cfg strata.Config) (time.Duration, error) {
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		return 0, err
	}
	defer ds.Close()
	start := time.Now()
	err = ds.Ping(ctx)
	return time.Since(start), err
}

// describeDSN names a PostgreSQL server without its password:
// user@host:port/database.
func describeDSN(dsn string) string {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	c := cfg.ConnConfig
	host := c.Host
	if strings.HasPrefix(host, "/") {
		host = "unix:" + host
	}
	return fmt.Sprintf("%s@%s:%d/%s", c.User, host, c.Port, c.Database)
}
