package l1mem

import "time"

// GetWithTTL is [Cache.Get] that also returns how long the entry has left
// to live (0 for an entry that never expires), for callers that refresh
// entries ahead of their expiry. Like Get, a hit does not allocate.
func (c *Cache[K, V]) GetWithTTL(key K) (V, time.Duration, bool) {
	v, left, ok := c.get(key, outcomeHit)
	return v, time.Duration(left), ok
}
