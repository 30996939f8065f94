package l1mem

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// stallingPolicy wraps a shard's policy; once armed, the next hit stops
// until release is closed, as a drain would if its thread were
// descheduled in the middle of it.
type stallingPolicy struct {
	policy
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (p *stallingPolicy) hit(i int32) {
	if p.armed.CompareAndSwap(true, false) {
		close(p.entered)
		<-p.release
	}
	p.policy.hit(i)
}

// TestGetDoesNotWaitForReadBufferDrain: a reader whose read buffer fills
// up replays the buffered reads into the eviction policy. While that
// replay is under way (here stalled on purpose), other readers of the
// shard must still be served: the replay holds only the policy's mutex,
// not the shard's lock.
func TestGetDoesNotWaitForReadBufferDrain(t *testing.T) {
	for _, p := range []EvictionPolicy{EvictLRU, EvictLFU, EvictTinyLFU} {
		t.Run(p.String(), func(t *testing.T) {
			c, err := New(&Options[string, int]{Shards: 1, MaxEntries: 64, Eviction: p, DisableSweep: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetExact() // every read is recorded, so the buffer fills quickly
			for i := range 40 {
				c.Set(strconv.Itoa(i), i)
			}
			s := &c.shards[0]
			sp := &stallingPolicy{policy: s.pol, entered: make(chan struct{}), release: make(chan struct{})}
			s.lock()
			s.pol = sp
			s.unlock()
			sp.armed.Store(true)
			released := false
			defer func() {
				if !released {
					close(sp.release)
				}
			}()

			drained := make(chan struct{})
			go func() {
				defer close(drained)
				for i := 0; ; i++ {
					select {
					case <-sp.entered:
						return
					default:
					}
					c.Get(strconv.Itoa(i % 40))
				}
			}()
			select {
			case <-sp.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("no reader started a drain after 10 s of reads")
			}

			got := make(chan int, 1)
			go func() {
				v, _ := c.Get("7")
				got <- v
			}()
			select {
			case v := <-got:
				if v != 7 {
					t.Fatalf(`Get("7") = %d during a drain, want 7`, v)
				}
			case <-time.After(2 * time.Second):
				t.Fatal(`Get("7") still waiting after 2 s for a read-buffer drain to finish`)
			}
			close(sp.release)
			released = true
			<-drained
		})
	}
}

// TestDrainLeavesSlabUntouched: replaying buffered reads into the policy
// must not write the slab that readers read (a write there moves the
// entry's cache line away from every other processor reading it).
func TestDrainLeavesSlabUntouched(t *testing.T) {
	for _, p := range []EvictionPolicy{EvictLRU, EvictLFU, EvictTinyLFU} {
		t.Run(p.String(), func(t *testing.T) {
			c, err := New(&Options[string, int]{Shards: 1, MaxEntries: 64, Eviction: p, DisableSweep: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetExact()
			for i := range 40 {
				c.Set(strconv.Itoa(i), i)
			}
			s := &c.shards[0]
			for i := range 20 {
				c.Get(strconv.Itoa(i)) // fewer than a ring's worth: buffered, not drained
			}
			before := append([]entry[string, int](nil), s.entries...)
			s.lock()
			tick := s.tick
			s.drain()
			applied := s.tick - tick
			s.unlock()
			if applied == 0 {
				t.Fatal("the drain applied no buffered read")
			}
			for i := range before {
				if before[i] != s.entries[i] {
					t.Errorf("slot %d changed by the drain: %+v -> %+v", i, before[i], s.entries[i])
				}
			}
		})
	}
}
