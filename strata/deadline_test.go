package strata_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestCallsReturnByDeadlineDuringRedisPause: Redis (the test's own) stops
// answering (CLIENT PAUSE ALL). A Set with a 1 s deadline commits to
// PostgreSQL and returns by its deadline, successfully; the writer then
// reads its own write at once (not the old value Redis still holds); a Get
// (GetMany, Exists) of a record cached only in Redis returns PostgreSQL's
// answer by its 1 s deadline. When Redis answers again, the old value is
// repaired for every instance.
func TestCallsReturnByDeadlineDuringRedisPause(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	addr := testenv.StartRedis(t) // paused below: never the shared server
	ctx := ctxT(t)
	name := "deadline_" + testenv.Suffix()
	cfg := strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + name}
	schema := strata.Schema{Name: name, Model: &Memo{}}
	ds := openStore(t, cfg, schema)
	conn := pgTable(t, dsn, name)
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for _, id := range []string{"w", "g"} {
		if err := ds.Set(ctx, name, id, &Memo{ID: id, Body: "v1"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "Redis to cache "+id, func() bool {
			ds.DropL1(name, id)
			m, err := strata.GetTyped[Memo](ctx, ds, name, id)
			return err == nil && m.Body == "v1" && filled(ctx, rdb, "strata:"+name+":"+id)
		})
	}
	ds.DropL1(name, "g") // its next reads ask Redis

	const pause = 5 * time.Second
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	const slack = 250 * time.Millisecond // scheduling under -race on a shared machine

	call := func(what string, fn func(ctx context.Context) error) (time.Duration, error) {
		c, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		start := time.Now()
		err := fn(c)
		took := time.Since(start)
		t.Logf("%s with a 1 s deadline during the pause returned in %v: %v", what, took.Round(time.Millisecond), err)
		if took > time.Second+slack {
			t.Errorf("%s took %v, past its 1 s deadline", what, took.Round(time.Millisecond))
		}
		return took, err
	}
	if _, err := call("Set", func(c context.Context) error {
		return ds.Set(c, name, "w", &Memo{ID: "w", Body: "v2"})
	}); err != nil {
		t.Errorf("Set during the pause: %v (PostgreSQL committed it, so it must succeed)", err)
	}
	var body string
	if err := conn.QueryRow(ctx, "SELECT body FROM "+pgx.Identifier{name}.Sanitize()+" WHERE id = 'w'").Scan(&body); err != nil || body != "v2" {
		t.Fatalf("PostgreSQL holds %q, %v after the Set; want v2", body, err)
	}
	var m Memo
	if _, err := call("Get of the record just written", func(c context.Context) error {
		var err error
		m, err = strata.GetTyped[Memo](c, ds, name, "w")
		return err
	}); err != nil || m.Body != "v2" {
		t.Errorf("the writer reads %+v, %v during the pause; want its own write v2", m, err)
	}
	if _, err := call("Get of a record cached in Redis", func(c context.Context) error {
		var err error
		m, err = strata.GetTyped[Memo](c, ds, name, "g")
		return err
	}); err != nil || m.Body != "v1" {
		t.Errorf("Get during the pause: %+v, %v; want PostgreSQL's v1", m, err)
	}
	ds.DropL1(name, "g")
	var many map[string]Memo
	if _, err := call("GetMany of records cached in Redis", func(c context.Context) error {
		var err error
		many, err = strata.GetManyTyped[Memo](c, ds, name, []string{"g", "w"})
		return err
	}); err != nil || many["g"].Body != "v1" || many["w"].Body != "v2" {
		t.Errorf("GetMany during the pause: %+v, %v; want g v1 and w v2", many, err)
	}
	ds.DropL1(name, "g")
	var ok bool
	if _, err := call("Exists of a record cached in Redis", func(c context.Context) error {
		var err error
		ok, err = ds.Exists(c, name, "g")
		return err
	}); err != nil || !ok {
		t.Errorf("Exists during the pause: %v, %v; want true", ok, err)
	}
	if time.Since(paused) > pause {
		t.Fatalf("the calls outlasted the %v pause (the test would prove nothing)", pause)
	}

	// Redis answers again: the old value of w is deleted there and a fresh
	// instance reads v2.
	fresh := openStore(t, cfg, schema)
	waitFor(t, "another instance to read the value written during the pause", func() bool {
		m, err := strata.GetTyped[Memo](ctx, fresh, name, "w")
		return err == nil && m.Body == "v2"
	})
}
