package l2redis_test

import (
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
)

// TestExtendKeepsALeasePastItsTTL: a lease extended every third of its
// LeaseTTL (300 ms) still stands, and fills, after four LeaseTTLs; one that
// a write voided, or that expired, is not extended, and neither is the zero
// Lease.
func TestExtendKeepsALeasePastItsTTL(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	forEachTopology(t, &l2redis.Options{LeaseTTL: ttl}, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		if s.LeaseTTL() != ttl {
			t.Errorf("LeaseTTL() = %v, want %v", s.LeaseTTL(), ttl)
		}
		key := p + "slow-filler"
		_, lease, err := s.GetOrLease(ctx, key)
		if err != nil || !lease.Valid() {
			t.Fatalf("GetOrLease = %v, %v; want a lease", lease, err)
		}
		for end := time.Now().Add(4 * ttl); time.Now().Before(end); time.Sleep(ttl / 3) {
			if ok, err := s.Extend(ctx, lease); err != nil || !ok {
				t.Fatalf("Extend of a standing lease = %v, %v; want true", ok, err)
			}
			if _, _, err := s.GetOrLease(ctx, key); err != l2redis.ErrLeaseBusy {
				t.Fatalf("another reader's GetOrLease while the lease is extended = %v, want ErrLeaseBusy", err)
			}
		}
		if wrote, err := s.Fill(ctx, lease, []byte("filled"), time.Minute); err != nil || !wrote {
			t.Fatalf("Fill after 4 LeaseTTLs of extensions = %v, %v; want true", wrote, err)
		}
		if ok, err := s.Extend(ctx, lease); err != nil || ok {
			t.Errorf("Extend of a filled lease = %v, %v; want false", ok, err)
		}

		voided := p + "voided"
		_, lease, err = s.GetOrLease(ctx, voided)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, voided, []byte("written"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Extend(ctx, lease); err != nil || ok {
			t.Errorf("Extend of a lease a write voided = %v, %v; want false", ok, err)
		}
		if ttl, err := s.TTL(ctx, voided); err != nil || ttl < 30*time.Second {
			t.Errorf("the written key's TTL after the refused Extend = %v, %v; want the write's", ttl, err)
		}

		expired := p + "expired"
		_, lease, err = s.GetOrLease(ctx, expired)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(ttl + 100*time.Millisecond)
		if ok, err := s.Extend(ctx, lease); err != nil || ok {
			t.Errorf("Extend of an expired lease = %v, %v; want false", ok, err)
		}
		if ok, err := s.Extend(ctx, l2redis.Lease{}); err != nil || ok {
			t.Errorf("Extend of the zero Lease = %v, %v; want false, nil", ok, err)
		}
	})
}
