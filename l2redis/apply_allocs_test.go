package l2redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// TestIsAuthErrorOfNilAllocatesNothing: strata asks IsAuthError about the
// result of every Redis command (its credentials watch), nearly always nil.
func TestIsAuthErrorOfNilAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = l2redis.IsAuthError(nil) }); n != 0 {
		t.Fatalf("IsAuthError(nil) allocates %v times, want 0", n)
	}
	if !l2redis.IsAuthError(errors.Join(errors.New("x"), redisErr("WRONGPASS invalid username-password pair"))) {
		t.Fatal("a wrapped WRONGPASS reply is not an auth error")
	}
}

// redisErr is an error reply as go-redis returns it.
type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

// TestApplyOfOneRefreshAllocatesAtMost: a Set's whole Redis upkeep is one
// Apply of one refresh with the message; its arguments are converted to
// interfaces once where they are constants (the flags, the sequence TTL,
// the mode, a skip of 0) and built in place, not copied from a first list.
func TestApplyOfOneRefreshAllocatesAtMost(t *testing.T) {
	c := redistest.Client(t)
	s, err := l2redis.New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := l2redis.NewBus(c, &l2redis.BusOptions{Channel: "l2redis-test:bus:" + redistest.RandomID()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	prefix := redistest.Prefix(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	change := []l2redis.Change{{Key: prefix + "k", Value: l2redis.Versioned(1, []byte("v")), TTL: time.Minute, Refresh: true}}
	apply := func() {
		if err := s.Apply(ctx, pub, change, prefix+"ns", l2redis.OpSet, "schema", "k"); err != nil {
			t.Fatal(err)
		}
	}
	apply()         // the script loaded, the connection dialled
	const most = 34 // 37 before, 31-32 after
	n := testing.AllocsPerRun(200, apply)
	if n > most {
		t.Fatalf("Apply of one refresh with the message allocates %v times, want at most %d", n, most)
	}
	t.Logf("Apply of one refresh with the message allocates %v times", n)
}
