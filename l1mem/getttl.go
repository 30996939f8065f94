package l1mem

import (
	"sync/atomic"
	"time"
)

// GetWithTTL is [Cache.Get] that also returns how long the entry has left
// to live (0 for an entry that never expires), for callers that refresh
// entries ahead of their expiry. Like Get, a hit does not allocate.
// (Its body is Get's, with the time left; keep the two alike.)
func (c *Cache[K, V]) GetWithTTL(key K) (V, time.Duration, bool) {
	h := c.hash(key)
	s := c.shardOf(h)
	st := s.lk.rlock()
	i := s.find(key, h)
	var zero V
	if i < 0 {
		s.lk.runlock(st, outcomeMiss)
		return zero, 0, false
	}
	e := &s.entries[i]
	var left int64
	if e.expires != 0 {
		if left = e.expires - c.now(); left <= 0 {
			gen := e.gen
			s.lk.runlock(st, outcomeMiss)
			c.expire(s, i, gen)
			return zero, 0, false
		}
	}
	m := atomic.LoadUint32(&e.mark)
	if m&markAbsent != 0 {
		s.lk.runlock(st, outcomeMiss)
		return zero, 0, false
	}
	v := e.val
	drain := false
	if s.clock {
		touch(&e.mark, m)
	} else if s.track {
		drain = s.lk.bufOf(st).note(i, e.gen, s.filter, s.shift, s.lk.inserts.Load())
	}
	s.lk.runlock(st, outcomeHit)
	if drain {
		s.tryDrain()
	}
	return v, time.Duration(left), true
}
