package l2redis_test

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/l2redis"
)

func TestGetSet(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		tests := []struct {
			name  string
			value []byte
		}{
			{name: "bytes", value: []byte("hello")},
			{name: "empty", value: []byte{}},
			{name: "binary", value: []byte{0, 1, 2, 0xff}},
			{name: "large", value: make([]byte, 1<<20)},
		}
		for _, tt := range tests {
			key := p + tt.name
			if err := s.Set(ctx, key, tt.value, time.Minute); err != nil {
				t.Fatalf("%s: Set: %v", tt.name, err)
			}
			got, err := s.Get(ctx, key)
			if err != nil {
				t.Fatalf("%s: Get: %v", tt.name, err)
			}
			if !bytes.Equal(tt.value, got) || got == nil {
				t.Errorf("%s: Get = %d bytes %.20q, want %d bytes %.20q", tt.name, len(got), got, len(tt.value), tt.value)
			}
		}
		if _, err := s.Get(ctx, p+"absent"); !errors.Is(err, l2redis.ErrNotFound) {
			t.Errorf("Get(absent) error = %v, want ErrNotFound", err)
		}
		// MGet returns the same values, an empty one as a non-nil empty
		// slice, and each slice is the caller's to modify.
		keys := make([]string, len(tests))
		want := make([][]byte, len(tests))
		for i, tt := range tests {
			keys[i], want[i] = p+tt.name, tt.value
		}
		got, err := s.MGet(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if !bytes.Equal(want[i], got[i]) {
				t.Errorf("MGet[%d] = %d bytes %.20q, want %d bytes %.20q", i, len(got[i]), got[i], len(want[i]), want[i])
			}
		}
		if got[1] == nil {
			t.Errorf("MGet of an empty value gave nil, want an empty slice")
		}
		got[0][0] = 'J'
		if again, _ := s.MGet(ctx, keys[:1]); string(again[0]) != "hello" {
			t.Errorf("modifying a returned value changed the next read: %q", again[0])
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := testCtx(t)
	reserved := []byte(l2redis.LeaseMagic + "x")
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"Get empty key", func() error { _, err := s.Get(ctx, ""); return err }, l2redis.ErrEmptyKey},
		{"Set empty key", func() error { return s.Set(ctx, "", nil, 0) }, l2redis.ErrEmptyKey},
		{"Set negative ttl", func() error { return s.Set(ctx, p+"k", nil, -2) }, l2redis.ErrInvalidTTL},
		{"Set reserved value", func() error { return s.Set(ctx, p+"k", reserved, 0) }, l2redis.ErrReservedValue},
		{"SetMany reserved value", func() error {
			return s.SetMany(ctx, []l2redis.Item{{Key: p + "a"}, {Key: p + "b", Value: reserved}})
		}, l2redis.ErrReservedValue},
		{"SetMany empty key", func() error { return s.SetMany(ctx, []l2redis.Item{{Key: ""}}) }, l2redis.ErrEmptyKey},
		{"MGet empty key", func() error { _, err := s.MGet(ctx, []string{p + "a", ""}); return err }, l2redis.ErrEmptyKey},
		{"Delete empty key", func() error { return s.Delete(ctx, "") }, l2redis.ErrEmptyKey},
		{"DeleteMany empty key", func() error { _, err := s.DeleteMany(ctx, []string{""}); return err }, l2redis.ErrEmptyKey},
		{"DeletePrefix empty", func() error { _, err := s.DeletePrefix(ctx, ""); return err }, l2redis.ErrEmptyKey},
		{"TTL empty key", func() error { _, err := s.TTL(ctx, ""); return err }, l2redis.ErrEmptyKey},
		{"GetOrLease empty key", func() error { _, _, err := s.GetOrLease(ctx, ""); return err }, l2redis.ErrEmptyKey},
		{"SetResult generation 0", func() error { return s.SetResult(ctx, p, 0, "q", nil, 0) }, l2redis.ErrInvalidGeneration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
	// Nothing was written by the refused SetMany.
	if ok, err := s.Exists(ctx, p+"a"); err != nil || ok {
		t.Errorf("Exists after refused SetMany = %v, %v; want false, nil", ok, err)
	}
}

func TestTTL(t *testing.T) {
	t.Parallel()
	forEachTopology(t, &l2redis.Options{DefaultTTL: time.Hour, TTLJitter: 0.1}, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		tests := []struct {
			name     string
			ttl      time.Duration
			min, max time.Duration
		}{
			{name: "explicit", ttl: time.Minute, min: 53 * time.Second, max: 66 * time.Second},
			{name: "default", ttl: 0, min: 53 * time.Minute, max: 66 * time.Minute},
			{name: "no expiry", ttl: l2redis.NoExpiry, min: l2redis.NoExpiry, max: l2redis.NoExpiry},
		}
		for _, tt := range tests {
			key := p + tt.name
			if err := s.Set(ctx, key, []byte("v"), tt.ttl); err != nil {
				t.Fatal(err)
			}
			got, err := s.TTL(ctx, key)
			if err != nil {
				t.Fatalf("%s: TTL: %v", tt.name, err)
			}
			if got < tt.min || got > tt.max {
				t.Errorf("%s: TTL = %v, want within [%v, %v]", tt.name, got, tt.min, tt.max)
			}
		}
		if _, err := s.TTL(ctx, p+"absent"); !errors.Is(err, l2redis.ErrNotFound) {
			t.Errorf("TTL(absent) error = %v, want ErrNotFound", err)
		}
		ok, err := s.Exists(ctx, p+"default")
		if err != nil || !ok {
			t.Errorf("Exists(default) = %v, %v; want true, nil", ok, err)
		}
	})
}

func TestMGetSetMany(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		const n = 200 // spreads over many slots, and every master of a cluster
		items := make([]l2redis.Item, n)
		keys := make([]string, 0, n+2)
		want := make([][]byte, 0, n+2)
		for i := range items {
			items[i] = l2redis.Item{Key: p + strconv.Itoa(i), Value: []byte("v" + strconv.Itoa(i)), TTL: time.Minute}
			keys = append(keys, items[i].Key)
			want = append(want, items[i].Value)
		}
		if err := s.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
		// Absent keys come back nil, in place, between present ones.
		keys = append(keys[:10], append([]string{p + "absent1", p + "absent2"}, keys[10:]...)...)
		want = append(want[:10], append([][]byte{nil, nil}, want[10:]...)...)
		got, err := s.MGet(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("MGet mismatch (-want +got):\n%s", diff)
		}
		if got, err := s.MGet(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("MGet(nil) = %v, %v", got, err)
		}
		if err := s.SetMany(ctx, nil); err != nil {
			t.Errorf("SetMany(nil) = %v", err)
		}
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		var items []l2redis.Item
		for i := range 50 {
			items = append(items, l2redis.Item{Key: fmt.Sprintf("%sk%d", p, i), Value: []byte("v")})
		}
		if err := s.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, p+"k0"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, p+"k0"); err != nil {
			t.Errorf("Delete(absent) = %v, want nil", err)
		}
		n, err := s.DeleteMany(ctx, []string{p + "k0", p + "k1", p + "k2", p + "k3", p + "nope"})
		if err != nil || n != 3 {
			t.Errorf("DeleteMany = %d, %v; want 3, nil", n, err)
		}
		for _, k := range []string{p + "k0", p + "k3"} {
			if _, err := s.Get(ctx, k); !errors.Is(err, l2redis.ErrNotFound) {
				t.Errorf("Get(%s) after delete: %v", k, err)
			}
		}
		if _, err := s.Get(ctx, p+"k4"); err != nil {
			t.Errorf("Get(k4) = %v, want a hit", err)
		}
	})
}

// TestDeleteIfValue: the compare-and-delete removes the value it was given
// and keeps any other, so a good value stored after a bad one was read
// survives.
func TestDeleteIfValue(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		if err := s.Set(ctx, p+"k", []byte("bad"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, p+"k", []byte("good"), time.Minute); err != nil { // stored since "bad" was read
			t.Fatal(err)
		}
		if ok, err := s.DeleteIfValue(ctx, p+"k", []byte("bad")); err != nil || ok {
			t.Errorf("DeleteIfValue(other value) = %v, %v; want false, nil", ok, err)
		}
		if got, err := s.Get(ctx, p+"k"); err != nil || string(got) != "good" {
			t.Errorf("after a refused DeleteIfValue Get = %q, %v; want good", got, err)
		}
		if ok, err := s.DeleteIfValue(ctx, p+"k", []byte("good")); err != nil || !ok {
			t.Errorf("DeleteIfValue(its value) = %v, %v; want true, nil", ok, err)
		}
		if _, err := s.Get(ctx, p+"k"); !errors.Is(err, l2redis.ErrNotFound) {
			t.Errorf("after DeleteIfValue Get = %v, want ErrNotFound", err)
		}
		if ok, err := s.DeleteIfValue(ctx, p+"k", []byte("good")); err != nil || ok {
			t.Errorf("DeleteIfValue(absent) = %v, %v; want false, nil", ok, err)
		}
		if _, err := s.DeleteIfValue(ctx, "", nil); !errors.Is(err, l2redis.ErrEmptyKey) {
			t.Errorf("DeleteIfValue(\"\") = %v, want ErrEmptyKey", err)
		}
	})
}

func TestDeletePrefix(t *testing.T) {
	t.Parallel()
	// A small ScanCount makes DeletePrefix page and batch many times.
	forEachTopology(t, &l2redis.Options{ScanCount: 7}, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		var items []l2redis.Item
		for i := range 300 {
			items = append(items, l2redis.Item{Key: fmt.Sprintf("%sdoomed:%d", p, i), Value: []byte("v")})
		}
		// Glob characters in the prefix are literal; the sibling survives.
		items = append(items,
			l2redis.Item{Key: p + "doomed:*weird[1]", Value: []byte("v")},
			l2redis.Item{Key: p + "doomedX", Value: []byte("kept")},
			l2redis.Item{Key: p + "kept:1", Value: []byte("kept")},
		)
		if err := s.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeletePrefix(ctx, p+"doomed:")
		if err != nil || n != 301 {
			t.Fatalf("DeletePrefix = %d, %v; want 301, nil", n, err)
		}
		got, err := s.MGet(ctx, []string{p + "doomed:0", p + "doomed:299", p + "doomedX", p + "kept:1"})
		if err != nil {
			t.Fatal(err)
		}
		want := [][]byte{nil, nil, []byte("kept"), []byte("kept")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after DeletePrefix (-want +got):\n%s", diff)
		}
		// A prefix with glob characters matches only itself.
		if err := s.Set(ctx, p+"a*b:1", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, p+"aXb:1", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		if n, err := s.DeletePrefix(ctx, p+"a*b:"); err != nil || n != 1 {
			t.Errorf("DeletePrefix(glob) = %d, %v; want 1, nil", n, err)
		}
	})
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ prefix, id, want string }{
		{"players", "42", "strata:players:42"},
		{"sessions", "a:b", "strata:sessions:a:b"},
	}
	for _, tt := range tests {
		if got := l2redis.Key(tt.prefix, tt.id); got != tt.want {
			t.Errorf("Key(%q, %q) = %q, want %q", tt.prefix, tt.id, got, tt.want)
		}
		if got := l2redis.KeyPrefix(tt.prefix); got != "strata:"+tt.prefix+":" {
			t.Errorf("KeyPrefix(%q) = %q", tt.prefix, got)
		}
	}
}
