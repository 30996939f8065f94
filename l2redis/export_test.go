package l2redis

// SetUnguardedFill switches the stale-set guard of s off (Fill becomes a
// plain SET) or back on. Only tests use it, to show that the stale-set race
// test fails without the guard.
func SetUnguardedFill(s *Store, off bool) { s.unguardedFill = off }

// LeaseMagic is the prefix of a lease marker, for tests that store a value
// the package must refuse.
const LeaseMagic = leaseMagic

// SetBeforeApplyScript makes f run before each script call of Apply's
// (nil: none), so that a test can hold one in flight.
func SetBeforeApplyScript(s *Store, f func()) { s.beforeScript = f }

// QueuedApplies returns how many Apply calls wait for their group's next
// script call.
func QueuedApplies(s *Store) int {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	n := 0
	for _, g := range s.groups.m {
		g.mu.Lock()
		n += len(g.queue)
		g.mu.Unlock()
	}
	return n
}
