package strata

import (
	"sync"
	"sync/atomic"
)

// lifecycle is a DataStore's life in one place: whether Close has begun,
// the writes in flight Close waits for, and the background goroutines
// (L2 fills, post-commit upkeep, the write-behind flusher, the repairer)
// it stops and waits for.
type lifecycle struct {
	// closed is set when Close begins; every later call fails with
	// ErrUnavailable. Every call reads it.
	closed atomic.Bool
	once   sync.Once
	err    error // what Close returned

	ops  sync.RWMutex // writes in flight (read) against Close (write); see op
	mu   sync.Mutex   // orders goBackground against wait
	done bool         // wait has begun: goBackground runs nothing more
	bg   sync.WaitGroup
	// upkeep counts the writes' cache upkeep left to run after the write
	// returned (see goUpkeep); Close waits for it before anything else.
	upkeep sync.WaitGroup

	// stop is closed when Close stops the background loops.
	stop              chan struct{}
	flusher, repairer sync.Once
	claimer           sync.Once // the write-behind journal's claimer; see truth_journal.go
}

func newLifecycle() lifecycle { return lifecycle{stop: make(chan struct{})} }

// op marks a write in flight until release is called: Close waits for
// writes in flight before it flushes and closes the tiers, so a write that
// has been accepted always finishes its cache upkeep. It fails once Close
// has begun. Writes must not nest op calls.
func (l *lifecycle) op() (release func(), err error) {
	l.ops.RLock()
	if l.closed.Load() {
		l.ops.RUnlock()
		return nil, ErrUnavailable
	}
	return l.ops.RUnlock, nil
}

// goBackground runs fn on a goroutine that Close waits for, unless Close
// has begun waiting (then fn does not run and false is returned).
func (l *lifecycle) goBackground(fn func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return false
	}
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		fn()
	}()
	return true
}

// goUpkeep runs fn, the cache upkeep of a write that is returning, on a
// goroutine that Close waits for before it closes anything. The caller
// holds an op, so Close has not passed its wait for ops yet; once Close
// has begun, fn is not started and false is returned (the caller runs it).
func (l *lifecycle) goUpkeep(fn func()) bool {
	if l.closed.Load() {
		return false
	}
	l.upkeep.Add(1)
	go func() {
		defer l.upkeep.Done()
		fn()
	}()
	return true
}

// close runs shutdown once: it marks the DataStore closed, waits for the
// writes in flight, then runs shutdown, whose error every call returns.
func (l *lifecycle) close(shutdown func() error) error {
	l.once.Do(func() {
		l.closed.Store(true)
		l.ops.Lock() // wait for writes in flight; later ones see closed
		//lint:ignore SA2001 the empty section is the wait
		l.ops.Unlock()
		l.upkeep.Wait()
		l.err = shutdown()
	})
	return l.err
}

// stopLoops tells the background loops (flusher, repairer) to end.
func (l *lifecycle) stopLoops() { close(l.stop) }

// wait waits for every background goroutine; none starts afterwards.
func (l *lifecycle) wait() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
	l.bg.Wait()
}
