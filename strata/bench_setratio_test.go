package strata_test

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
)

// BenchmarkSetRatio runs BenchmarkSet's pair and the floors between them
// interleaved, one operation of each kind in turn, so that the load of a
// shared machine falls on all of them alike. For each kind it reports the
// median wall time in µs and the process's CPU time per operation (user +
// system, every goroutine: the bus subscriber's receipt of the Set's own
// message counts), and the ratio of each median to pgx's (the issue's
// target is set/pgx ≤ 1.5). Its own ns/op is the time of one operation of
// every kind.
//
//	pgx        the raw upsert of BenchmarkSet/PgxUpsert
//	set        a WriteThrough Set (versioned: the upsert, then one script)
//	upget      the upsert, then one Redis GET (BenchmarkSet/UpsertThenGet)
//	upapply    the upsert, then l2redis's Apply of one refresh without the
//	           message: the script's own cost over a GET
//	upapplybus the same with the message, which this process's own
//	           subscriber receives: everything Set does in Redis
//	uppubown   the upsert, then a PUBLISH this process's subscriber receives
//	uppubnone  the upsert, then a PUBLISH nobody receives
func BenchmarkSetRatio(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	q := e.upsertSQL()
	store, err := l2redis.New(e.rdb, nil)
	if err != nil {
		b.Fatal(err)
	}
	bus, err := l2redis.NewBus(e.rdb, &l2redis.BusOptions{Channel: "strata:bench:ratio"})
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	r := e.row
	upsert := func() error {
		r.Score++
		_, err := e.pool.Exec(ctx, q, r.ID, r.Name, r.Email, r.Level, r.Score, r.Ratio, r.Active, r.At)
		return err
	}
	apply := func(bus *l2redis.Bus) error {
		if err := upsert(); err != nil {
			return err
		}
		c := l2redis.Change{Key: e.key + ":absent", Value: l2redis.Versioned(uint64(r.Score), []byte("x")), Refresh: true}
		return store.Apply(ctx, bus, []l2redis.Change{c}, "bench", l2redis.OpSet, e.schema, "b1")
	}
	publish := func(channel string) error {
		if err := upsert(); err != nil {
			return err
		}
		return e.rdb.Publish(ctx, channel, "x").Err()
	}
	kinds := []struct {
		name string
		op   func() error
	}{
		{"pgx", upsert},
		{"set", func() error { r.Score++; return e.ds.Set(ctx, e.schema, "b1", &r) }},
		{"upget", func() error {
			if err := upsert(); err != nil {
				return err
			}
			if err := e.rdb.Get(ctx, e.key+":absent").Err(); err != redis.Nil {
				return err
			}
			return nil
		}},
		{"upapply", func() error { return apply(nil) }},
		{"upapplybus", func() error { return apply(bus) }},
		{"uppubown", func() error { return publish("strata:bench:ratio") }},
		{"uppubnone", func() error { return publish("strata:bench:nobody") }},
	}
	took := make([][]time.Duration, len(kinds))
	cpu := make([]time.Duration, len(kinds))
	for b.Loop() {
		for i, k := range kinds {
			c0 := processCPU()
			start := time.Now()
			if err := k.op(); err != nil {
				b.Fatal(err)
			}
			took[i] = append(took[i], time.Since(start))
			cpu[i] += processCPU() - c0
		}
	}
	med := make([]float64, len(kinds))
	for i, k := range kinds {
		slices.Sort(took[i])
		med[i] = float64(took[i][len(took[i])/2].Nanoseconds()) / 1e3
		b.ReportMetric(med[i], k.name+"-µs")
		b.ReportMetric(float64(cpu[i].Nanoseconds())/float64(len(took[i]))/1e3, k.name+"-cpuµs")
		if i > 0 {
			b.ReportMetric(med[i]/med[0], k.name+"/pgx")
		}
	}
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
