package l2redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
)

// TestFillAbsentRecordsAnAbsenceEveryWriteEnds: an absence recorded under
// a lease reads as ErrAbsent (which is also ErrNotFound) from Get,
// GetWithTTL and GetOrLease, as a missing value from MGet, and is ended by
// a write; a write between the lease and the marker voids the lease, so
// the marker is refused.
func TestFillAbsentRecordsAnAbsenceEveryWriteEnds(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, prefix string) {
		ctx := testCtx(t)
		key := prefix + "ghost"
		_, lease, err := s.GetOrLease(ctx, key)
		if err != nil || !lease.Valid() {
			t.Fatalf("GetOrLease = %v, %v; want a lease", lease, err)
		}
		if wrote, err := s.FillAbsent(ctx, lease, time.Minute); err != nil || !wrote {
			t.Fatalf("FillAbsent = %v, %v; want a write", wrote, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, l2redis.ErrAbsent) || !errors.Is(err, l2redis.ErrNotFound) {
			t.Errorf("Get of an absence = %v, want ErrAbsent wrapping ErrNotFound", err)
		}
		if _, _, err := s.GetWithTTL(ctx, key); !errors.Is(err, l2redis.ErrAbsent) {
			t.Errorf("GetWithTTL of an absence = %v, want ErrAbsent", err)
		}
		if _, l, err := s.GetOrLease(ctx, key); !errors.Is(err, l2redis.ErrAbsent) || l.Valid() {
			t.Errorf("GetOrLease of an absence = %v, %v; want ErrAbsent and no lease", l, err)
		}
		if vals, err := s.MGet(ctx, []string{key}); err != nil || vals[0] != nil {
			t.Errorf("MGet of an absence = %q, %v; want a missing value", vals, err)
		}
		if ok, err := s.Exists(ctx, key); err != nil || ok {
			t.Errorf("Exists of an absence = %v, %v; want false", ok, err)
		}
		if _, err := s.TTL(ctx, key); !errors.Is(err, l2redis.ErrNotFound) {
			t.Errorf("TTL of an absence = %v, want ErrNotFound", err)
		}
		if err := s.Set(ctx, key, []byte("v1"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, key); err != nil || string(got) != "v1" {
			t.Errorf("Get after a Set ended the absence = %q, %v; want v1", got, err)
		}

		race := prefix + "race"
		_, lease, err = s.GetOrLease(ctx, race)
		if err != nil || !lease.Valid() {
			t.Fatalf("GetOrLease = %v, %v; want a lease", lease, err)
		}
		if err := s.Set(ctx, race, []byte("written"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if wrote, err := s.FillAbsent(ctx, lease, time.Minute); err != nil || wrote {
			t.Errorf("FillAbsent after a write voided the lease = %v, %v; want refused", wrote, err)
		}
		if got, err := s.Get(ctx, race); err != nil || string(got) != "written" {
			t.Errorf("Get after a refused absence = %q, %v; want the write", got, err)
		}
	})
}

// TestRefreshIfUnchangedReplacesOnlyTheValueRead: a refresh replaces the
// value it read and extends its TTL, but not a value written since — not
// even a write of the same bytes (it reset the TTL) — and a claim is won
// once per window.
func TestRefreshIfUnchangedReplacesOnlyTheValueRead(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, prefix string) {
		ctx := testCtx(t)
		key := prefix + "hot"
		if err := s.Set(ctx, key, []byte("v1"), 2*time.Second); err != nil {
			t.Fatal(err)
		}
		old, left, err := s.GetWithTTL(ctx, key)
		if err != nil || string(old) != "v1" || left <= 0 || left > 2*time.Second {
			t.Fatalf("GetWithTTL = %q, %v, %v; want v1 with at most 2s left", old, left, err)
		}
		for i, want := range []bool{true, false} {
			if won, err := s.ClaimRefresh(ctx, key, left); err != nil || won != want {
				t.Errorf("claim %d = %v, %v; want %v", i, won, err, want)
			}
		}
		if wrote, err := s.RefreshIfUnchanged(ctx, key, old, []byte("v2"), time.Minute, left); err != nil || !wrote {
			t.Fatalf("RefreshIfUnchanged = %v, %v; want a write", wrote, err)
		}
		if got, ttl, err := s.GetWithTTL(ctx, key); err != nil || string(got) != "v2" || ttl < 30*time.Second {
			t.Errorf("after the refresh: %q, %v, %v; want v2 with its TTL extended", got, ttl, err)
		}

		// A write of the very bytes read, after the read: not overwritten.
		if err := s.Set(ctx, key, []byte("v1"), time.Second); err != nil {
			t.Fatal(err)
		}
		old, left, _ = s.GetWithTTL(ctx, key)
		if err := s.Set(ctx, key, []byte("v1"), time.Minute); err != nil { // the write
			t.Fatal(err)
		}
		if wrote, err := s.RefreshIfUnchanged(ctx, key, old, []byte("stale"), time.Minute, left); err != nil || wrote {
			t.Errorf("RefreshIfUnchanged over a later write = %v, %v; want refused", wrote, err)
		}
		// A versioned value: read without its version, refreshed by it.
		if err := s.Set(ctx, key, l2redis.Versioned(7, []byte("v7")), time.Second); err != nil {
			t.Fatal(err)
		}
		old, left, err = s.GetWithTTL(ctx, key)
		if err != nil || string(old) != "v7" {
			t.Fatalf("GetWithTTL of a versioned value = %q, %v; want v7", old, err)
		}
		if wrote, err := s.RefreshIfUnchanged(ctx, key, old, l2redis.Versioned(7, []byte("v7")), time.Minute, left); err != nil || !wrote {
			t.Errorf("RefreshIfUnchanged of a versioned value = %v, %v; want a write", wrote, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if wrote, err := s.RefreshIfUnchanged(ctx, key, old, []byte("stale"), time.Minute, left); err != nil || wrote {
			t.Errorf("RefreshIfUnchanged over a delete = %v, %v; want refused", wrote, err)
		}
	})
}
