package l1mem

// Holds reports whether key occupies a slot, expired or not.
func (c *Cache[K, V]) Holds(key K) bool {
	s := c.shardOf(c.hash(key))
	s.mu.RLock()
	_, ok := s.m[key]
	s.mu.RUnlock()
	return ok
}
