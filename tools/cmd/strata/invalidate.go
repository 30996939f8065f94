package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/AndrewDonelson/strata/strata"
)

const invalidateLong = `Drop a record (or, without ID, every record of the schema) from the caches
of every instance, exactly as the library's Invalidate and InvalidateAll do:
the Redis key is deleted, the schema's cached searches are retired (its
search generation advances), and a message on the invalidation channel
makes every running instance drop its in-process copy. The next read loads
the row from PostgreSQL.

Use it after changing rows behind the library's back (psql, another
service, a data fix) when the deployment does not run the change feed.
Nothing is deleted from PostgreSQL.

The instances must listen on the channel given (--channel, default
strata:invalidate) and the schema's keys must use the prefix given
(--key-prefix, default SCHEMA).

A schema that lives in Redis only (PostgresPolicy.Disabled) keeps its truth
in Redis, so pass --redis-only: its keys are then left alone and only the
instances' in-process copies are dropped. Without --redis-only, PostgreSQL
must be configured too (Redis keys are deleted only where PostgreSQL holds
the truth).`

func newInvalidate(o *options) *cobra.Command {
	var keyPrefix string
	var redisOnly bool
	cmd := &cobra.Command{
		Use:   "invalidate SCHEMA [ID]",
		Short: "Drop one record, or all of a schema, from Redis and every instance's memory",
		Long:  invalidateLong,
		Example: `  strata invalidate players p1      # one record
  strata invalidate players         # the whole schema, and its cached searches
  strata invalidate sessions s1 --redis-only --key-prefix sess`,
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			id := ""
			if len(a) == 2 {
				id = a[1]
			}
			return invalidate(cmd, o, a[0], id, keyPrefix, redisOnly)
		},
	}
	cmd.Flags().StringVar(&keyPrefix, "key-prefix", "", "the schema's Redis key prefix, RedisPolicy.KeyPrefix (default: SCHEMA)")
	cmd.Flags().BoolVar(&redisOnly, "redis-only", false, "the schema lives in Redis only (PostgresPolicy.Disabled): tell the instances, keep the keys")
	return cmd
}

// cacheKey is the model the command registers for a schema it knows only
// by name: invalidation needs the schema's names, never its fields.
type cacheKey struct {
	ID string `strata:"primary_key"`
}

func invalidate(cmd *cobra.Command, o *options, schema, id, keyPrefix string, redisOnly bool) error {
	if o.redisAddr == "" {
		return usageError{fmt.Errorf("no Redis: give --redis-addr or set %s (the caches to invalidate are there)", envRedisAddr)}
	}
	cfg := o.config()
	if redisOnly {
		cfg.PostgresDSN = ""
	} else if cfg.PostgresDSN == "" {
		return usageError{fmt.Errorf("no PostgreSQL: give --postgres-dsn or set %s, or pass --redis-only for a schema that lives in Redis only", envPostgresDSN)}
	}
	ctx, cancel := o.withTimeout(cmd.Context())
	defer cancel()
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		return usageError{err}
	}
	defer ds.Close()
	sc := strata.Schema{Name: schema, Model: &cacheKey{}, L2: strata.RedisPolicy{KeyPrefix: keyPrefix}}
	if redisOnly {
		sc.L3.Disabled = true
	}
	if err := ds.Register(sc); err != nil {
		return usageError{err}
	}
	// The library repairs what Redis refused later, from this process,
	// which is about to exit (Close makes a last try and logs a warning if
	// it fails): check that the servers answer first.
	if err := ds.Ping(ctx); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	prefix := keyPrefix
	if prefix == "" {
		prefix = schema
	}
	if id == "" {
		if err := ds.InvalidateAll(ctx, schema); err != nil {
			return err
		}
		if err := ds.Close(); err != nil { // waits for the upkeep in flight
			return err
		}
		if redisOnly {
			fmt.Fprintf(out, "told the instances on %q to drop every %s record (Redis keys kept: --redis-only)\n", o.channel, schema)
		} else {
			fmt.Fprintf(out, "invalidated every %s record: keys strata:%s:* deleted, cached searches retired, instances on %q told\n", schema, prefix, o.channel)
		}
		return nil
	}
	if err := ds.Invalidate(ctx, schema, id); err != nil {
		return err
	}
	if err := ds.Close(); err != nil { // waits for the upkeep in flight
		return err
	}
	if redisOnly {
		fmt.Fprintf(out, "told the instances on %q to drop %s %s (Redis key kept: --redis-only)\n", o.channel, schema, id)
	} else {
		fmt.Fprintf(out, "invalidated %s %s: key strata:%s:%s deleted, cached searches retired, instances on %q told\n", schema, id, prefix, id, o.channel)
	}
	return nil
}
