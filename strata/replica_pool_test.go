package strata_test

import (
	"testing"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestReadReplicaSharesThePrimaryPool: a schema with a ReadReplica used to
// open a second pool to the primary. With one connection per pool, the
// primary now has one connection of this DataStore however many pools
// could have been made (counted in pg_stat_activity by application_name),
// and the replica has its own.
func TestReadReplicaSharesThePrimaryPool(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	sfx := testenv.Suffix()
	name := "replpool_" + sfx
	primaryApp, replicaApp := "strata_primary_"+sfx, "strata_replica_"+sfx
	pg := pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{
		PostgresDSN: withParam(t, dsn, "application_name="+primaryApp),
		L3Pool:      strata.L3PoolConfig{MinConns: 1, MaxConns: 1},
	}, strata.Schema{Name: name, Model: &Score{}, L3: strata.PostgresPolicy{ReadReplica: withParam(t, dsn, "application_name="+replicaApp)}})

	// Migrate and Tx use the DataStore's pool; Set and Get the schema's
	// table; Count the replica.
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, name, "a", &Score{ID: "a", Value: 1}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Tx(ctx).Set(name, "b", &Score{ID: "b", Value: 2}).Commit(); err != nil {
		t.Fatal(err)
	}
	ds.DropL1(name, "a")
	if got, err := strata.GetTyped[Score](ctx, ds, name, "a"); err != nil || got.Value != 1 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if n, err := ds.Count(ctx, name, nil); err != nil || n != 2 {
		t.Fatalf("Count via the replica = %d, %v", n, err)
	}
	connections := func(app string) int {
		var n int
		if err := pg.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "the replica pool's connection", func() bool { return connections(replicaApp) == 1 })
	if n := connections(primaryApp); n != 1 {
		t.Fatalf("%d connections to the primary from pools of at most one connection: want 1 (one primary pool)", n)
	}
}
