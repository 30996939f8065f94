package l1mem_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// The zero configuration: 256 unbounded LRU shards, no TTL.
func Example() {
	c, err := l1mem.New[string, int](nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()

	c.Set("answer", 42)
	v, ok := c.Get("answer")
	fmt.Println(v, ok)
	_, ok = c.Get("question")
	fmt.Println(ok)
	// Output:
	// 42 true
	// false
}

// A bounded LRU cache with a default TTL and an eviction
// callback.
func ExampleNew() {
	c, err := l1mem.New(&l1mem.Options[string, string]{
		Shards:     1, // one shard keeps the example deterministic
		MaxEntries: 2, // per shard
		Eviction:   l1mem.EvictLRU,
		DefaultTTL: time.Minute,
		OnEvict: func(k, v string, r l1mem.EvictReason) {
			fmt.Printf("evicted %s=%s (%s)\n", k, v, r)
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	c.Set("a", "1")
	c.Set("b", "2")
	c.Get("a")      // a is now more recent than b
	c.Set("c", "3") // evicts b
	c.Set("a", "4") // replaces a
	fmt.Println(c.Len())
	// Output:
	// evicted b=2 (capacity)
	// evicted a=1 (replaced)
	// 2
}

// Bad options are errors, never panics.
func ExampleNew_invalidOptions() {
	_, err := l1mem.New(&l1mem.Options[string, int]{Shards: 3})
	fmt.Println(err)
	// Output:
	// l1mem: invalid options: Shards 3 is not a power of two
}

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

// TTLs follow the injected clock.
func ExampleCache_SetWithTTL() {
	clk := &stepClock{t: time.Unix(0, 0)}
	c, _ := l1mem.New(&l1mem.Options[string, int]{Clock: clk, DisableSweep: true})
	defer c.Close()

	_ = c.SetWithTTL("session", 1, 30*time.Second)
	clk.t = clk.t.Add(29 * time.Second)
	fmt.Println(c.Has("session"))
	clk.t = clk.t.Add(time.Second)
	fmt.Println(c.Has("session"))
	// Output:
	// true
	// false
}

// A fill from a slower tier that raced with a write is refused.
func ExampleCache_SetIfEpoch() {
	c, _ := l1mem.New[string, string](nil)
	defer c.Close()

	epoch := c.Epoch("user:1") // before reading the database
	// ... meanwhile another goroutine writes the new value:
	c.Set("user:1", "new")
	// ... our database read returns the old row; the fill is refused:
	fmt.Println(c.SetIfEpoch("user:1", "old", epoch))
	v, _ := c.Get("user:1")
	fmt.Println(v)
	// Output:
	// false
	// new
}

// Concurrent callers of GetOrLoad share one load per key.
func ExampleCache_GetOrLoad() {
	c, _ := l1mem.New[int, string](nil)
	defer c.Close()

	load := func(_ context.Context, id int) (string, error) {
		fmt.Println("loading", id)
		return fmt.Sprintf("user-%d", id), nil
	}
	for range 3 {
		v, err := c.GetOrLoad(context.Background(), 7, load)
		fmt.Println(v, err)
	}
	// Output:
	// loading 7
	// user-7 <nil>
	// user-7 <nil>
	// user-7 <nil>
}

func ExampleCache_Stats() {
	c, _ := l1mem.New(&l1mem.Options[string, int]{Shards: 4, MaxEntries: 1})
	defer c.Close()
	for i := range 10 {
		c.Set(fmt.Sprint(i), i)
	}
	c.Get("9")
	c.Get("missing")
	st := c.Stats()
	fmt.Println(st.Hits, st.Misses, st.Entries+int(st.Evictions), len(st.ShardSizes))
	// Output:
	// 1 1 10 4
}

// A loader that finds nothing returns (or wraps) ErrNotFound; with
// NegativeTTL the cache remembers the miss, so the next call does not
// load, until the key is written or the TTL passes.
func ExampleCache_GetOrLoad_notFound() {
	c, _ := l1mem.New(&l1mem.Options[int, string]{NegativeTTL: time.Minute})
	defer c.Close()

	load := func(_ context.Context, id int) (string, error) {
		fmt.Println("loading", id)
		return "", fmt.Errorf("user %d: %w", id, l1mem.ErrNotFound)
	}
	for range 2 {
		_, err := c.GetOrLoad(context.Background(), 404, load)
		fmt.Println(errors.Is(err, l1mem.ErrNotFound))
	}
	c.Set(404, "created since")
	v, err := c.GetOrLoad(context.Background(), 404, load)
	fmt.Println(v, err)
	// Output:
	// loading 404
	// true
	// true
	// created since <nil>
}

// GetOrLoadMany loads every missing key in one call; keys the loader
// leaves out do not exist.
func ExampleCache_GetOrLoadMany() {
	c, _ := l1mem.New[int, string](nil)
	defer c.Close()
	c.Set(1, "user-1")

	load := func(_ context.Context, ids []int) (map[int]string, error) {
		slices.Sort(ids)
		fmt.Println("loading", ids)
		out := map[int]string{}
		for _, id := range ids {
			if id != 3 { // there is no user 3
				out[id] = fmt.Sprintf("user-%d", id)
			}
		}
		return out, nil
	}
	users, err := c.GetOrLoadMany(context.Background(), []int{1, 2, 3, 4}, load)
	fmt.Println(len(users), users[1], users[2], users[4], err)
	users, _ = c.GetOrLoadMany(context.Background(), []int{2, 4}, load)
	fmt.Println(len(users))
	// Output:
	// loading [2 3 4]
	// 3 user-1 user-2 user-4 <nil>
	// 2
}

// MaxTotalEntries bounds the whole cache, as otter's MaximumSize does;
// a small cache gets fewer shards so each still holds 64 entries or more.
func ExampleNew_maxTotalEntries() {
	c, _ := l1mem.New(&l1mem.Options[int, int]{MaxTotalEntries: 1000})
	defer c.Close()
	for i := range 10_000 {
		c.Set(i, i)
	}
	st := c.Stats()
	fmt.Println(st.Entries, len(st.ShardSizes))
	// Output:
	// 1000 8
}

func ExampleCache_SetIfAbsent() {
	c, _ := l1mem.New[string, int](nil)
	defer c.Close()

	fmt.Println(c.SetIfAbsent("k", 1))
	fmt.Println(c.SetIfAbsent("k", 2))
	// Output:
	// 1 true
	// 1 false
}

func ExampleCache_All() {
	c, _ := l1mem.New[string, int](nil)
	defer c.Close()
	c.Set("a", 1)
	c.Set("b", 2)

	sum := 0
	for _, v := range c.All() {
		sum += v
	}
	fmt.Println(sum)
	// Output:
	// 3
}
