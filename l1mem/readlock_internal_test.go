package l1mem

import (
	"sync"
	"testing"
)

// TestReadLockConcurrentSafe checks the reader-biased lock's exclusion:
// writers update two plain fields under lock, readers must always see them
// equal. Under -race any missing happens-before edge is also reported.
func TestReadLockConcurrentSafe(t *testing.T) {
	t.Parallel()
	var l readLock
	var a, b int
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20000 {
				switch {
				case g < 2 && i%4 == 0:
					l.lock()
					a++
					b++
					l.unlock()
				case g == 2 && i%64 == 0:
					if l.tryLock() {
						a += 2
						b += 2
						l.unlock()
					}
				default:
					st := l.rlock()
					x, y := a, b
					l.runlock(st, outcomeHit)
					if x != y {
						t.Errorf("reader saw a torn write: %d != %d", x, y)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	hits, misses := l.counts()
	if misses != 0 || hits == 0 {
		t.Fatalf("counts = %d hits, %d misses", hits, misses)
	}
}

// TestReadLockFoldsHits: a slot's hit and tally fields are folded into the
// lock's totals when either reaches its top bit, so neither carries into
// the field above it, and the totals stay exact.
func TestReadLockFoldsHits(t *testing.T) {
	for _, c := range []struct {
		name              string
		hits, tally       uint64 // in the slot before the read
		outcome           int
		wantHits, wantTal uint64
	}{
		{"hit field one short of its top bit", 1<<19 - 1, 0, outcomeHit, 1 << 19, 0},
		{"tally field one short of its top bit", 1<<11 - 1, 1<<11 - 1, outcomeTallied, 1 << 11, 1 << 11},
		{"hit field full of tallied hits", 1<<19 - 1, 5, outcomeTallied, 1 << 19, 6},
		{"no fold due", 7, 3, outcomeTallied, 8, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l readLock
			st := &l.slots[0]
			st.state.Store(c.hits<<32 | c.tally<<52)
			st.state.Add(1) // a reader enters
			l.runlock(0, c.outcome)
			h, _ := l.counts()
			if h != c.wantHits || l.tallied() != c.wantTal {
				t.Fatalf("hits, tally = %d, %d; want %d, %d", h, l.tallied(), c.wantHits, c.wantTal)
			}
			if got := st.state.Load() & readerMask; got != 0 {
				t.Fatalf("%d readers left in the slot", got)
			}
			if c.name != "no fold due" && st.state.Load() != 0 {
				t.Fatalf("slot state = %#x after folding", st.state.Load())
			}
		})
	}
}
