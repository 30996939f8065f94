package strata_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// feedGate is a Redis hook for a change-feed consumer: while held, the
// consumer's scripts that touch key wait, so a test decides that the
// feed's invalidation of a change reaches Redis after the writer's
// refresh of it. A script waits at most feedGateMax, then runs.
type feedGate struct {
	key string
	mu  sync.Mutex
	ch  chan struct{} // closed: open
}

const feedGateMax = 30 * time.Second

func newFeedGate(key string) *feedGate {
	ch := make(chan struct{})
	close(ch)
	return &feedGate{key: key, ch: ch}
}

// hold closes the gate until the returned release is called.
func (g *feedGate) hold() (release func()) {
	ch := make(chan struct{})
	g.mu.Lock()
	g.ch = ch
	g.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

func (g *feedGate) wait(ctx context.Context, cmds ...redis.Cmder) {
	touches := false
	for _, c := range cmds {
		switch c.Name() {
		case "eval", "evalsha":
			for _, a := range c.Args() {
				if s, ok := a.(string); ok && s == g.key {
					touches = true
				}
			}
		}
	}
	if !touches {
		return
	}
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	t := time.NewTimer(feedGateMax)
	defer t.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-t.C:
	}
}

func (g *feedGate) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *feedGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		g.wait(ctx, cmd)
		return next(ctx, cmd)
	}
}

func (g *feedGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		g.wait(ctx, cmds...)
		return next(ctx, cmds)
	}
}

// waitFeedChanges waits until consumer's change feed has applied n
// changes: those of the test's first n writes, which it applies in commit
// order.
func waitFeedChanges(t *testing.T, consumer *strata.DataStore, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("the change feed to apply %d changes", n), func() bool {
		return consumer.Stats().ChangeFeed.Changes >= int64(n)
	})
}

// versionInRedis returns the row version of the versioned value Redis
// holds at key; ok is false when it holds none (absent, a fill lease, an
// unversioned value).
func versionInRedis(t *testing.T, rdb *redis.Client, key string) (ver uint64, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return 0, false
	}
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	ver, _, ok = l2redis.SplitVersion(b)
	return ver, ok
}

// waitVersionedInRedis runs fill until Redis holds a versioned value at
// key, and returns its version.
func waitVersionedInRedis(t *testing.T, rdb *redis.Client, key string, fill func()) uint64 {
	t.Helper()
	var ver uint64
	waitFor(t, "redis to hold a versioned value of "+key, func() bool {
		fill()
		v, ok := versionInRedis(t, rdb, key)
		ver = v
		return ok
	})
	return ver
}

// rowVersionOf returns the row version PostgreSQL holds for id.
func rowVersionOf(t *testing.T, conn *pgx.Conn, table, id string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ver int64
	q := fmt.Sprintf(`SELECT %s FROM %s WHERE id = $1`, pgx.Identifier{model.VersionColumn}.Sanitize(), pgx.Identifier{table}.Sanitize())
	if err := conn.QueryRow(ctx, q, id).Scan(&ver); err != nil {
		t.Fatalf("row version of %s: %v", id, err)
	}
	return uint64(ver)
}

// openMigrated opens a new instance without the feed that has run
// Migrate, so that its reads fill Redis with versioned values, as the
// writer's do (an instance that has not run Migrate fills unversioned
// values, which the next versioned Set deletes instead of refreshing).
func (e *feedEnv) openMigrated(t *testing.T) *strata.DataStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds := e.open(t, false)
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return ds
}
