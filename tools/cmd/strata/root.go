package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/AndrewDonelson/strata/strata"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed, or found a problem
	exitUsage = 2 // bad arguments or flags
)

// The environment variables read when the matching flag is not given.
const (
	envPostgresDSN   = "STRATA_POSTGRES_DSN"
	envRedisAddr     = "STRATA_REDIS_ADDR"
	envRedisPassword = "STRATA_REDIS_PASSWORD"
)

// options are the global flags, resolved against the environment.
type options struct {
	postgresDSN     string
	redisAddr       string
	redisPassword   string
	redisDB         int
	redisMasterName string
	channel         string
	timeout         time.Duration
	verbose         bool

	getenv func(string) string
	stderr io.Writer
}

// usageError is a mistake in the command line: exit status 2 and a hint.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// problemError reports a problem the command found and already printed
// (a pending or changed migration, a feed that does not run): exit status
// 1 without another message.
var errProblem = errors.New("problem reported")

const rootLong = `strata operates a deployment of the Strata library (an in-process cache,
Redis and PostgreSQL behind one API) from the shell.

Where the servers are:
  --postgres-dsn    or STRATA_POSTGRES_DSN     e.g. postgres://app@db:5432/app?sslmode=require
  --redis-addr      or STRATA_REDIS_ADDR       host:port; several, comma-separated, for a Cluster,
                                               or the Sentinels with --redis-master-name
  --redis-password  or STRATA_REDIS_PASSWORD
A flag wins over its variable. Commands that need only one server ask only
for that one.

What the names mean: a schema's records live in the PostgreSQL table named
after the schema and in Redis under strata:{prefix}:{id}, the prefix being
the schema name too, unless the application set PostgresPolicy.TableName or
RedisPolicy.KeyPrefix (give the same --table or --key-prefix here).
Instances tell each other to drop records on the channel
"strata:invalidate" unless Config.InvalidationChannel says otherwise
(--channel).

Exit status: 0 when all is well, 1 when the command failed or found a
problem (a server that does not answer, a changed migration file, a change
feed that does not run), 2 for a mistake in the command line.`

const rootExample = `  export STRATA_POSTGRES_DSN=postgres://app@localhost:5432/app STRATA_REDIS_ADDR=localhost:6379
  strata ping
  strata migrate status ./migrations && strata migrate up ./migrations
  strata inspect players p1
  strata invalidate players p1
  strata feed status`

// newRoot builds the command tree.
func newRoot(o *options) *cobra.Command {
	root := &cobra.Command{
		Use:           "strata",
		Short:         "Operate a Strata deployment: migrations, cached records, servers, change feed",
		Long:          rootLong,
		Example:       rootExample,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			o.resolve(cmd)
			quietRedis(o.verbose)
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&o.postgresDSN, "postgres-dsn", "", "PostgreSQL connection string (default $"+envPostgresDSN+")")
	pf.StringVar(&o.redisAddr, "redis-addr", "", "Redis host:port, comma-separated for a Cluster or Sentinels (default $"+envRedisAddr+")")
	pf.StringVar(&o.redisPassword, "redis-password", "", "Redis password (default $"+envRedisPassword+")")
	pf.IntVar(&o.redisDB, "redis-db", 0, "Redis database number")
	pf.StringVar(&o.redisMasterName, "redis-master-name", "", "with Sentinels in --redis-addr, the name of the master")
	pf.StringVar(&o.channel, "channel", strata.DefaultInvalidationChannel, "the invalidation channel the deployment's Config.InvalidationChannel names")
	pf.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "log what the library does (to standard error)")

	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newMigrate(o), newInspect(o), newInvalidate(o), newPing(o), newFeed(o), newVersion())
	return root
}

// redisLogLevel filters go-redis's own log lines: it logs each failed dial
// on its own, while the command reports the failure once, so they need
// --verbose.
var (
	redisLogLevel = new(slog.LevelVar)
	redisLogOnce  sync.Once
)

// quietRedis routes go-redis's logger (one per process) through a level
// that shows its lines only with --verbose.
func quietRedis(verbose bool) {
	redisLogOnce.Do(func() {
		redisLogLevel.Set(slog.LevelError)
		strata.RouteRedisLogs(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: redisLogLevel})))
	})
	if verbose {
		redisLogLevel.Set(slog.LevelDebug)
	}
}

// resolve fills the flags not given from the environment.
func (o *options) resolve(cmd *cobra.Command) {
	for _, f := range []struct {
		flag, env string
		dst       *string
	}{
		{"postgres-dsn", envPostgresDSN, &o.postgresDSN},
		{"redis-addr", envRedisAddr, &o.redisAddr},
		{"redis-password", envRedisPassword, &o.redisPassword},
	} {
		if !cmd.Flags().Changed(f.flag) {
			*f.dst = o.getenv(f.env)
		}
	}
}

// needPostgres returns the DSN or an error saying how to give it.
func (o *options) needPostgres() (string, error) {
	if o.postgresDSN == "" {
		return "", usageError{fmt.Errorf("no PostgreSQL: give --postgres-dsn or set %s", envPostgresDSN)}
	}
	return o.postgresDSN, nil
}

// logger is the library's logger: warnings and errors, everything with
// --verbose.
func (o *options) logger() *slog.Logger {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(o.stderr, &slog.HandlerOptions{Level: level}))
}

// config is the DataStore configuration of the servers given.
func (o *options) config() strata.Config {
	return strata.Config{
		PostgresDSN:         o.postgresDSN,
		RedisAddr:           o.redisAddr,
		RedisPassword:       o.redisPassword,
		RedisDB:             o.redisDB,
		RedisMasterName:     o.redisMasterName,
		InvalidationChannel: o.channel,
		Logger:              o.logger(),
		L3Pool:              strata.L3PoolConfig{MaxConns: 4, MinConns: 1},
	}
}

// withTimeout bounds a command by --timeout.
func (o *options) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.timeout)
}

// args wraps a cobra argument check so that its failure is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o := &options{getenv: getenv, stderr: stderr}
	root := newRoot(o)
	root.SetArgs(argv)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errProblem):
		return exitFail
	case errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(stderr, "strata: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	default:
		fmt.Fprintf(stderr, "strata: %v\n", err)
		return exitFail
	}
}
