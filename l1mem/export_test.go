package l1mem

// Holds reports whether key occupies a slot, expired or not.
func (c *Cache[K, V]) Holds(key K) bool {
	h := c.hash(key)
	s := c.shardOf(h)
	st := s.lk.rlock()
	ok := s.find(key, h) >= 0
	s.lk.runlock(st, outcomeNone)
	return ok
}

// SetExact turns off read and overwrite skipping so LRU and LFU replay
// every read, as the model test's reference does.
func (c *Cache[K, V]) SetExact() {
	for i := range c.shards {
		c.shards[i].filter = false
		c.shards[i].skip = 0
		if l, ok := c.shards[i].pol.(*lru); ok {
			l.skip = 0
		}
	}
}
