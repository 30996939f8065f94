package l2redis_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// Each benchmark has a ...Baseline sibling doing the same work with go-redis
// directly on the same server, so that their ratio is comparable within one
// run. The operations are single round trips on loopback, so the machine's
// load moves both a lot: compare medians of several runs. They need
// STRATA_REDIS_ADDR like every server test (it says servers may be started),
// but run against a private redis-server:
//
//	go test -run '^$' -bench . -count 5 ./

const benchTTL = 10 * time.Minute

// benchSetup returns a raw client, a Store over it and a key prefix, with
// n keys "<prefix><i>" holding a 100-byte value. The server is a private
// redis-server (see redistest.SharedServer): the devstack one is shared with
// other test runs, whose traffic would add to the noise.
func benchSetup(b *testing.B, n int) (*redis.Client, *l2redis.Store, string, []string) {
	b.Helper()
	c := redis.NewClient(&redis.Options{Addr: redistest.SharedServer(b).Addr})
	b.Cleanup(func() { _ = c.Close() })
	s, err := l2redis.New(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := redistest.Prefix(b, c)
	keys := make([]string, n)
	items := make([]l2redis.Item, n)
	for i := range keys {
		keys[i] = p + strconv.Itoa(i)
		items[i] = l2redis.Item{Key: keys[i], Value: benchValue, TTL: benchTTL}
	}
	if err := s.SetMany(context.Background(), items); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return c, s, p, keys
}

var benchValue = make([]byte, 100)

func BenchmarkGet(b *testing.B) {
	_, s, _, keys := benchSetup(b, 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Get(ctx, keys[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetBaseline(b *testing.B) {
	c, _, _, keys := benchSetup(b, 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Get(ctx, keys[0]).Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMGet100(b *testing.B) {
	_, s, _, keys := benchSetup(b, 100)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.MGet(ctx, keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMGet100Baseline(b *testing.B) {
	c, _, _, keys := benchSetup(b, 100)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.MGet(ctx, keys...).Result(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	_, s, p, _ := benchSetup(b, 0)
	ctx := context.Background()
	key := p + "set"
	for b.Loop() {
		if err := s.Set(ctx, key, benchValue, benchTTL); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetBaseline(b *testing.B) {
	c, _, p, _ := benchSetup(b, 0)
	ctx := context.Background()
	key := p + "set"
	for b.Loop() {
		if err := c.Set(ctx, key, benchValue, benchTTL).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// setManyItems returns 1,000 items under p.
func setManyItems(p string) []l2redis.Item {
	items := make([]l2redis.Item, 1000)
	for i := range items {
		items[i] = l2redis.Item{Key: p + strconv.Itoa(i), Value: benchValue, TTL: benchTTL}
	}
	return items
}

func BenchmarkSetMany1000(b *testing.B) {
	_, s, p, _ := benchSetup(b, 0)
	ctx := context.Background()
	items := setManyItems(p)
	for b.Loop() {
		if err := s.SetMany(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetMany1000Baseline(b *testing.B) {
	c, _, p, _ := benchSetup(b, 0)
	ctx := context.Background()
	items := setManyItems(p)
	for b.Loop() {
		_, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for _, it := range items {
				pipe.Set(ctx, it.Key, it.Value, it.TTL)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPaired cross-checks the sibling pairs on a noisy machine: each
// iteration runs the l2redis call and the raw go-redis call back to back,
// alternating which goes first, and reports the mean latency of each and
// their ratio. A load spike then slows both sides of the same pair instead
// of whichever benchmark happened to be running.
func BenchmarkPaired(b *testing.B) {
	b.Run("Get", func(b *testing.B) {
		c, s, _, keys := benchSetup(b, 1)
		ctx := context.Background()
		benchPaired(b,
			func() error { _, err := s.Get(ctx, keys[0]); return err },
			func() error { _, err := c.Get(ctx, keys[0]).Bytes(); return err })
	})
	b.Run("MGet100", func(b *testing.B) {
		c, s, _, keys := benchSetup(b, 100)
		ctx := context.Background()
		benchPaired(b,
			func() error { _, err := s.MGet(ctx, keys); return err },
			func() error { _, err := c.MGet(ctx, keys...).Result(); return err })
	})
	b.Run("Set", func(b *testing.B) {
		c, s, p, _ := benchSetup(b, 0)
		ctx := context.Background()
		benchPaired(b,
			func() error { return s.Set(ctx, p+"a", benchValue, benchTTL) },
			func() error { return c.Set(ctx, p+"b", benchValue, benchTTL).Err() })
	})
}

func benchPaired(b *testing.B, ours, raw func() error) {
	b.Helper()
	var tOurs, tRaw time.Duration
	n := 0
	for b.Loop() {
		first, second := ours, raw
		if n%2 == 1 {
			first, second = raw, ours
		}
		t0 := time.Now()
		if err := first(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := second(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if n%2 == 0 {
			tOurs, tRaw = tOurs+t1.Sub(t0), tRaw+t2.Sub(t1)
		} else {
			tRaw, tOurs = tRaw+t1.Sub(t0), tOurs+t2.Sub(t1)
		}
		n++
	}
	b.ReportMetric(float64(tOurs.Nanoseconds())/float64(n), "l2redis-ns/op")
	b.ReportMetric(float64(tRaw.Nanoseconds())/float64(n), "raw-ns/op")
	b.ReportMetric(float64(tOurs)/float64(tRaw), "ratio")
}
