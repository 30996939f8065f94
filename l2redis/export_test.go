package l2redis

// SetUnguardedFill switches the stale-set guard of s off (Fill becomes a
// plain SET) or back on. Only tests use it, to show that the stale-set race
// test fails without the guard.
func SetUnguardedFill(s *Store, off bool) { s.unguardedFill = off }

// LeaseMagic is the prefix of a lease marker, for tests that store a value
// the package must refuse.
const LeaseMagic = leaseMagic
