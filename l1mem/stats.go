package l1mem

// Stats is a point-in-time snapshot of a cache's counters.
type Stats struct {
	Hits        uint64 // lookups (Get, GetTallied, GetWithTTL, GetOrLoad, GetOrLoadMany per key) that found a value
	Misses      uint64 // lookups that did not, remembered misses included
	Evictions   uint64 // entries removed for capacity
	Expirations uint64 // entries removed because their TTL passed
	Entries     int    // entries held now, including expired ones not yet removed and remembered misses
	ShardSizes  []int  // entries per shard
}

// HitRatio returns Hits/(Hits+Misses), or 0 before any lookup.
func (s Stats) HitRatio() float64 {
	if t := s.Hits + s.Misses; t > 0 {
		return float64(s.Hits) / float64(t)
	}
	return 0
}

// Stats returns a snapshot of the counters. Counters are read shard by
// shard without stopping writers, so they need not be mutually consistent.
func (c *Cache[K, V]) Stats() Stats {
	st := Stats{ShardSizes: make([]int, len(c.shards))}
	for i := range c.shards {
		s := &c.shards[i]
		h, m := s.lk.counts()
		st.Hits += h
		st.Misses += m
		st.Evictions += s.evictions.Load()
		st.Expirations += s.expirations.Load()
		n := int(s.size.Load())
		st.ShardSizes[i] = n
		st.Entries += n
	}
	return st
}
