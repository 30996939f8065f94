package strata

import (
	"fmt"
	"testing"

	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type evictRow struct {
	ID string `strata:"primary_key"`
}

// sameShardKeys returns three keys that st's L1 puts in one shard, found by
// watching which shard grows.
func sameShardKeys(t *testing.T, st *schemaState) []string {
	t.Helper()
	shardOf := func(k string) int {
		before := st.l1.Stats().ShardSizes
		st.l1.Set(k, &evictRow{ID: k})
		after := st.l1.Stats().ShardSizes
		st.l1.Delete(k)
		for i := range after {
			if after[i] != before[i] {
				return i
			}
		}
		t.Fatalf("setting %q grew no shard", k)
		return -1
	}
	byShard := map[int][]string{}
	for i := 0; ; i++ {
		k := fmt.Sprintf("k%d", i)
		s := shardOf(k)
		byShard[s] = append(byShard[s], k)
		if len(byShard[s]) == 3 {
			return byShard[s]
		}
	}
}

// policyOf tells the L1 policy of st apart by behaviour: with two entries
// per shard, set a and b, read a, then set c. LRU evicts b (a was read
// last), FIFO evicts a (it came first), LFU evicts b (read less often).
func policyOf(t *testing.T, st *schemaState) string {
	t.Helper()
	keys := sameShardKeys(t, st)
	a, b, c := keys[0], keys[1], keys[2]
	st.l1.Set(a, &evictRow{ID: a})
	st.l1.Set(b, &evictRow{ID: b})
	st.l1.Get(a)
	st.l1.Get(a)
	st.l1.Set(c, &evictRow{ID: c})
	_, hasA := st.l1.Get(a)
	_, hasB := st.l1.Get(b)
	switch {
	case hasA && !hasB:
		return "LRU or LFU"
	case !hasA && hasB:
		return "FIFO"
	}
	return fmt.Sprintf("unexpected (a kept %v, b kept %v)", hasA, hasB)
}

// TestL1EvictionPolicyConfigAndSchema: Config.L1Pool.Eviction applies to a
// schema whose L1.Eviction is zero (inherit), and a schema's own policy,
// LRU included, wins over the Config's.
func TestL1EvictionPolicyConfigAndSchema(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t) // an L3 makes L1 a cache that evicts
	tests := []struct {
		name           string
		config, schema EvictionPolicy
		want           string
	}{
		{"defaults", 0, 0, "LRU or LFU"},
		{"config FIFO, schema inherits", EvictFIFO, 0, "FIFO"},
		{"config FIFO, schema LRU", EvictFIFO, EvictLRU, "LRU or LFU"},
		{"config LRU, schema FIFO", EvictLRU, EvictFIFO, "FIFO"},
		{"config default, schema FIFO", 0, EvictFIFO, "FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ds, err := NewDataStore(Config{PostgresDSN: dsn, L1Pool: L1PoolConfig{MaxEntries: 2, Eviction: tt.config}})
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			if err := ds.Register(Schema{Name: "evict_" + testenv.Suffix(), Model: &evictRow{}, L1: MemPolicy{Eviction: tt.schema}}); err != nil {
				t.Fatal(err)
			}
			for _, st := range *ds.schemas.Load() {
				if got := policyOf(t, st); got != tt.want {
					t.Errorf("L1 behaves as %s, want %s", got, tt.want)
				}
			}
		})
	}
}

// TestL1TinyLFUKeepsFrequentKeysThroughScans: a schema with EvictTinyLFU
// keeps its frequently read keys while scans of one-off keys, each more
// than twice the whole L1, pass through it; the same load under LRU loses
// them. (l1mem's LRU gives an entry read since it last reached the tail
// one more round, so a scan must be over twice the L1 to flush it.)
func TestL1TinyLFUKeepsFrequentKeysThroughScans(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t) // an L3 makes L1 a cache that evicts
	const (
		perShard = 10   // × 256 shards = 2,560 entries
		hot      = 250  // read twice per round
		scan     = 8000 // about three times the L1
		rounds   = 5
	)
	kept := func(t *testing.T, p EvictionPolicy) int {
		ds, err := NewDataStore(Config{PostgresDSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Close()
		if err := ds.Register(Schema{Name: "evict_" + testenv.Suffix(), Model: &evictRow{}, L1: MemPolicy{MaxEntries: perShard, Eviction: p}}); err != nil {
			t.Fatal(err)
		}
		var st *schemaState
		for _, s := range *ds.schemas.Load() {
			st = s
		}
		for r := range rounds {
			for i := range hot {
				k := fmt.Sprintf("hot%d", i)
				if _, ok := st.l1.Get(k); !ok {
					st.l1.Set(k, &evictRow{ID: k})
				}
				st.l1.Get(k)
			}
			for i := range scan {
				k := fmt.Sprintf("scan%d_%d", r, i)
				st.l1.Set(k, &evictRow{ID: k})
			}
		}
		n := 0
		for i := range hot {
			if _, ok := st.l1.Get(fmt.Sprintf("hot%d", i)); ok {
				n++
			}
		}
		return n
	}
	lru, tiny := kept(t, EvictLRU), kept(t, EvictTinyLFU)
	t.Logf("frequent keys kept of %d: LRU %d, TinyLFU %d", hot, lru, tiny)
	if tiny < hot*9/10 {
		t.Errorf("TinyLFU kept %d of %d frequent keys through the scans, want at least 90%%", tiny, hot)
	}
	if lru > hot/10 {
		t.Errorf("LRU kept %d of %d frequent keys; the scans should have flushed them (the test no longer tells the policies apart)", lru, hot)
	}
}
