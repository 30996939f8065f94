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
// every read, as the model test's reference does; LRU leaves clock mode
// and records reads in the read rings like the other policies.
func (c *Cache[K, V]) SetExact() {
	for i := range c.shards {
		s := &c.shards[i]
		s.lock()
		s.filter = false
		s.skip = 0
		if l, ok := s.pol.(*lru); ok && s.clock {
			l.referenced = nil
			s.clock, s.track = false, true
			for si := range s.lk.stripes {
				s.lk.stripes[si].marks = make([]uint32, (cap(s.entries)+3)/4)
			}
		}
		s.unlock()
	}
}
