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

func TestReadLockFoldsHits(t *testing.T) {
	var l readLock
	st := &l.slots[0]
	st.state.Store(uint64(1<<31-1) << 32) // one hit short of folding
	st.state.Add(1)                       // a reader enters
	l.runlock(0, outcomeHit)
	if h, _ := l.counts(); h != 1<<31 {
		t.Fatalf("hits = %d after folding, want %d", h, uint64(1<<31))
	}
	if st.state.Load() != 0 {
		t.Fatalf("slot state = %#x after folding", st.state.Load())
	}
}
