package l1mem

import "time"

// sweepBatch is the most slots the sweep examines per lock hold.
const sweepBatch = 256

func (c *Cache[K, V]) sweepLoop(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.DeleteExpired()
		}
	}
}

// DeleteExpired removes every expired entry now (reason
// [ReasonExpired]) and returns how many it removed. The background sweep
// calls it every [Options.SweepInterval]. It holds each shard's lock for at
// most 256 slots at a time.
func (c *Cache[K, V]) DeleteExpired() int {
	collect := c.onEvict != nil
	removed := 0
	var ev evictList[K, V]
	for si := range c.shards {
		s := &c.shards[si]
		for start := 0; ; start += sweepBatch {
			s.lock()
			n := len(s.entries)
			if start >= n {
				s.unlock()
				break
			}
			now := c.now()
			drained := false
			for i := start; i < min(start+sweepBatch, n); i++ {
				e := &s.entries[i]
				if e.live() && e.expires != 0 && e.expires <= now {
					if !drained && s.track {
						s.drain()
						drained = true
					}
					s.removeAt(int32(i), ReasonExpired, &ev, collect)
					removed++
				}
			}
			s.unlock()
			if collect {
				ev.fire(c.onEvict)
				ev = evictList[K, V]{}
			}
		}
	}
	return removed
}

// Close stops the background sweep and waits for it to exit, and cancels
// the context of every [Cache.GetOrLoad] load in progress and waits for
// those loads to return (their callers get the loader's result, usually
// the cancellation error). The cache stays usable afterwards: expired
// entries are then removed only when read or by [Cache.DeleteExpired], and
// GetOrLoad starts loads as before. Close is idempotent and always returns
// nil.
func (c *Cache[K, V]) Close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
	})
	<-c.done
	c.cancelLoads()
	return nil
}
