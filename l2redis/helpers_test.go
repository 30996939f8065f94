package l2redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// topology is one kind of deployment the key/value tests run against.
type topology struct {
	name   string
	client func(t *testing.T) redis.UniversalClient
}

var topologies = []topology{
	{name: "standalone", client: func(t *testing.T) redis.UniversalClient { return redistest.Client(t) }},
	{name: "cluster", client: func(t *testing.T) redis.UniversalClient { return redistest.ClusterClient(t) }},
	{name: "sentinel", client: func(t *testing.T) redis.UniversalClient { return redistest.SentinelClient(t) }},
}

// forEachClient runs f as a parallel subtest per topology, with a client of
// that deployment.
func forEachClient(t *testing.T, f func(t *testing.T, c redis.UniversalClient)) {
	t.Helper()
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			t.Parallel()
			f(t, tp.client(t))
		})
	}
}

// forEachTopology runs f as a parallel subtest per topology, with a Store on
// that deployment and a key prefix of the test's own.
func forEachTopology(t *testing.T, opts *l2redis.Options, f func(t *testing.T, s *l2redis.Store, prefix string)) {
	t.Helper()
	forEachClient(t, func(t *testing.T, c redis.UniversalClient) {
		s, err := l2redis.New(c, opts)
		if err != nil {
			t.Fatal(err)
		}
		f(t, s, redistest.Prefix(t, c))
	})
}

// newStore returns a Store on the devstack server and a key prefix of the
// test's own.
func newStore(t *testing.T, opts *l2redis.Options) (*l2redis.Store, string) {
	t.Helper()
	c := redistest.Client(t)
	s, err := l2redis.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, redistest.Prefix(t, c)
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
