package l2redis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
)

func ExampleKey() {
	fmt.Println(l2redis.Key("players", "42"))
	fmt.Println(l2redis.KeyPrefix("players"))
	// Output:
	// strata:players:42
	// strata:players:
}

func ExampleInvalidation_MarshalBinary() {
	msg := l2redis.Invalidation{Schema: "players", IDs: []string{"42"}, Op: l2redis.OpSet, Source: "a1", Seq: 7}
	b, _ := msg.MarshalBinary()
	back, _ := l2redis.DecodeInvalidation(b)
	fmt.Println(len(b), "bytes:", back.Op, back.Schema, back.IDs, back.Source, back.Seq)
	// Output: 18 bytes: set players [42] a1 7
}

// The examples below need a server. They read STRATA_REDIS_ADDR and return
// early without it; with it they run and print only what goes wrong, so
// their empty Output checks them.

// exampleStore returns a Store on STRATA_REDIS_ADDR, or nil when it is unset.
func exampleStore() *l2redis.Store {
	addr := os.Getenv("STRATA_REDIS_ADDR")
	if addr == "" {
		return nil
	}
	s, err := l2redis.Open(l2redis.Config{Addr: addr}, &l2redis.Options{
		DefaultTTL:       time.Minute,
		GenerationPrefix: "example:gen:",
		ResultPrefix:     "example:q:",
	})
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleStore_Get() {
	s := exampleStore()
	if s == nil {
		return // needs a server: run `make test`
	}
	defer s.Close()
	ctx := context.Background()
	key := l2redis.Key("example-get", "42")
	defer s.Delete(ctx, key)

	if err := s.Set(ctx, key, []byte("encoded record"), 0); err != nil {
		fmt.Println(err)
		return
	}
	v, err := s.Get(ctx, key) // v is "encoded record"
	if err != nil || string(v) != "encoded record" {
		fmt.Println(v, err)
	}
	_, err = s.Get(ctx, l2redis.Key("example-get", "absent"))
	if !errors.Is(err, l2redis.ErrNotFound) {
		fmt.Println("want ErrNotFound, got", err)
	}
	// Output:
}

// The read path of a caching layer: a miss takes a lease before reading the
// database, and the fill succeeds only if no write came in between.
func ExampleStore_GetOrLease() {
	s := exampleStore()
	if s == nil {
		return
	}
	defer s.Close()
	ctx := context.Background()
	key := l2redis.Key("example-lease", "42")
	defer s.Delete(ctx, key)

	loadFromDatabase := func() []byte { return []byte("row 42") }

	v, lease, err := s.GetOrLease(ctx, key)
	switch {
	case err == nil && !lease.Valid():
		_ = v // a hit
	case err == nil:
		row := loadFromDatabase()
		// filled is false if a write or delete voided the lease.
		if filled, err := s.Fill(ctx, lease, row, 0); !filled || err != nil {
			fmt.Println(filled, err)
		}
	case errors.Is(err, l2redis.ErrLeaseBusy):
		// Another reader is filling: serve from the database.
	default:
		fmt.Println(err) // e.g. ErrUnavailable: serve from the database
	}
	// Output:
}

// Cached query results: one BumpGeneration hides every result of the
// namespace.
func ExampleStore_GetResult() {
	s := exampleStore()
	if s == nil {
		return
	}
	defer s.Close()
	ctx := context.Background()
	ns := "players"
	defer s.DeletePrefix(ctx, "example:")

	_, gen, err := s.GetResult(ctx, ns, "level > 3")
	if errors.Is(err, l2redis.ErrNotFound) {
		rows := []byte("encoded rows") // run the query
		_ = s.SetResult(ctx, ns, gen, "level > 3", rows, time.Minute)
	}
	_, _ = s.BumpGeneration(ctx, ns) // a write to the schema
	_, _, err = s.GetResult(ctx, ns, "level > 3")
	if !errors.Is(err, l2redis.ErrNotFound) {
		fmt.Println("want ErrNotFound after the bump, got", err)
	}
	// Output:
}

func ExampleNewBus() {
	addr := os.Getenv("STRATA_REDIS_ADDR")
	if addr == "" {
		return
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()

	bus, err := l2redis.NewBus(client, &l2redis.BusOptions{
		Channel: "example:invalidate",
		OnMessage: func(m l2redis.Invalidation) {
			// Drop m.IDs of m.Schema from the local cache.
		},
		OnResubscribe: func(ev l2redis.ResubscribeEvent) {
			// Messages may have been lost: drop the whole local cache.
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bus.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bus.WaitSubscribed(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := bus.Publish(ctx, l2redis.OpSet, "players", "42"); err != nil {
		fmt.Println(err)
	}
	// Output:
}
