package integration_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// convergeTwoInstances is the two-instance suite, run on any Redis
// deployment: B holds v1 in L1; A's Set and Delete reach B through the
// invalidation bus within a deadline.
func convergeTwoInstances(t *testing.T, cfg strata.Config, name string) {
	t.Helper()
	ctx := ctxT(t)
	schema := strata.Schema{Name: name, Model: &Score{}}
	a := open(t, cfg, schema)
	migrate(t, a, cfg.PostgresDSN, name)
	var bHits tierCounter
	bcfg := cfg
	bcfg.Metrics = &bHits
	b := open(t, bcfg, schema)

	if err := a.Set(ctx, name, "k", &Score{ID: "k", Value: 1}); err != nil {
		t.Fatal(err)
	}
	servedFromL1(t, ctx, b, &bHits, name, "k", 1)
	if err := a.Set(ctx, name, "k", &Score{ID: "k", Value: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to read A's update", 5*time.Second, func() bool {
		got, err := strata.GetTyped[Score](ctx, b, name, "k")
		return err == nil && got.Value == 2
	})
	servedFromL1(t, ctx, b, &bHits, name, "k", 2)
	if err := a.Delete(ctx, name, "k"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to see A's delete", 5*time.Second, func() bool {
		_, err := strata.GetTyped[Score](ctx, b, name, "k")
		return errors.Is(err, strata.ErrNotFound)
	})
}

// TestTwoInstancesConverge: two DataStores on one PostgreSQL and one Redis.
func TestTwoInstancesConverge(t *testing.T) {
	t.Parallel()
	name := "two_" + testkit.Suffix()
	convergeTwoInstances(t, strata.Config{
		PostgresDSN: harness.PostgresDSN(t), RedisAddr: harness.RedisAddr(t),
		InvalidationChannel: "strata:it:" + name,
	}, name)
}

// TestTwoInstancesOnRedisCluster: the same on a three-master Redis Cluster
// (the kit's), through caller-built cluster clients.
func TestTwoInstancesOnRedisCluster(t *testing.T) {
	t.Parallel()
	dsn := harness.PostgresDSN(t)
	testkit.RedisAddr(t) // local servers are available
	cl, err := rediskit.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	name := "cluster_" + testkit.Suffix()
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	convergeTwoInstances(t, strata.Config{PostgresDSN: dsn, RedisClient: client, InvalidationChannel: "strata:it:" + name}, name)
}

// TestTwoInstancesThroughSentinel: with RedisMasterName, RedisAddr names a
// Sentinel and Strata uses the master it reports; fills land on that
// master.
func TestTwoInstancesThroughSentinel(t *testing.T) {
	t.Parallel()
	dsn := harness.PostgresDSN(t)
	s := rediskit.NewSentinel(t, "strata-it-master")
	name := "sentinel_" + testkit.Suffix()
	convergeTwoInstances(t, strata.Config{
		PostgresDSN: dsn, RedisAddr: s.Addr, RedisMasterName: s.MasterName,
		InvalidationChannel: "strata:it:" + name,
	}, name)

	ctx := ctxT(t)
	ds := open(t, strata.Config{PostgresDSN: dsn, RedisAddr: s.Addr, RedisMasterName: s.MasterName}, strata.Schema{Name: name, Model: &Score{}})
	if err := ds.Set(ctx, name, "s", &Score{ID: "s", Value: 3}); err != nil {
		t.Fatal(err)
	}
	fresh := open(t, strata.Config{PostgresDSN: dsn, RedisAddr: s.Addr, RedisMasterName: s.MasterName}, strata.Schema{Name: name, Model: &Score{}})
	if got, err := strata.GetTyped[Score](ctx, fresh, name, "s"); err != nil || got.Value != 3 {
		t.Fatalf("Get through the Sentinel = %+v, %v", got, err)
	}
	master := redis.NewClient(&redis.Options{Addr: s.Master.Addr})
	defer master.Close()
	waitFor(t, "the record to be cached on the Sentinel's master", 10*time.Second,
		func() bool { return filled(ctx, master, "strata:"+name+":s") })
}

// TestReadReplicaServesSearches: a schema's ReadReplica (a real streaming
// replica of the test server, from the kit) serves its searches and
// counts; a write on the primary reaches them once replicated.
func TestReadReplicaServesSearches(t *testing.T) {
	t.Parallel()
	dsn := harness.PostgresDSN(t)
	replica := pgkit.StartReplica(t, dsn)
	ctx := ctxT(t)
	name := "replica_" + testkit.Suffix()
	ds := open(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: name, Model: &Score{}, L3: strata.PostgresPolicy{ReadReplica: replica.DSN}})
	migrate(t, ds, dsn, name)
	if err := ds.Set(ctx, name, "a", &Score{ID: "a", Value: 5}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica to count the new row", 30*time.Second, func() bool {
		n, err := ds.Count(ctx, name, nil)
		return err == nil && n == 1
	})
	rows, err := strata.SearchTyped[Score](ctx, ds, name, nil)
	if err != nil || len(rows) != 1 || rows[0].Value != 5 {
		t.Errorf("Search via the replica = %+v, %v", rows, err)
	}
	// With the replica down, reads fall back to the primary.
	replica.Stop(t)
	if n, err := ds.Count(ctx, name, nil); err != nil || n != 1 {
		t.Errorf("Count with the replica stopped = %d, %v; want 1 from the primary", n, err)
	}
}
