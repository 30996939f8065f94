package strata_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Score struct {
	ID    string `strata:"primary_key"`
	Value int64
	Round int64
}

// Close with PostgreSQL down says how many records it could not flush.
func TestWriteBehindCloseReportsUnflushed(t *testing.T) {
	t.Parallel()
	pg := testenv.StartPostgres(t)
	ctx := context.Background()
	name := "wbclose_" + testenv.Suffix()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: pg.DSN, WriteBehindFlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Register(strata.Schema{Name: name, Model: &Score{}, WriteMode: strata.WriteBehind}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		id := fmt.Sprintf("c%d", i)
		if err := ds.Set(ctx, name, id, &Score{ID: id, Value: 1}); err != nil {
			t.Fatal(err)
		}
	}
	pg.Stop()
	ds.SetCloseFlushBudgetForTest(time.Second) // the retries cannot succeed: no need to wait 10 s
	err = ds.Close()
	if err == nil || !strings.Contains(err.Error(), "7 write-behind records not flushed") {
		t.Errorf("Close with PostgreSQL down = %v, want it to say 7 records were not flushed", err)
	}
}

// The queue is bounded: past WriteBehindMaxPending a Set is refused with
// ErrWriteBehindFull rather than growing memory.
func TestWriteBehindBackPressure(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "wbfull_" + testenv.Suffix()
	ds := openStore(t, strata.Config{PostgresDSN: dsn, WriteBehindFlushInterval: time.Hour, WriteBehindFlushThreshold: 1000, WriteBehindMaxPending: 10}, strata.Schema{Name: name, Model: &Score{}, WriteMode: strata.WriteBehind})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn := pgTable(t, dsn, name)
	for i := range 10 {
		id := fmt.Sprintf("f%d", i)
		if err := ds.Set(ctx, name, id, &Score{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Set(ctx, name, "f0", &Score{ID: "f0", Value: 2}); err != nil {
		t.Errorf("updating a pending key must not count against the bound: %v", err)
	}
	if err := ds.Set(ctx, name, "f10", &Score{ID: "f10"}); !errors.Is(err, strata.ErrWriteBehindFull) {
		t.Errorf("11th pending key: %v, want ErrWriteBehindFull", err)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, name, "f10", &Score{ID: "f10"}); err != nil {
		t.Errorf("after a flush the queue has room again: %v", err)
	}
	var v int64
	if err := conn.QueryRow(ctx, "SELECT value FROM "+pgx.Identifier{name}.Sanitize()+" WHERE id = 'f0'").Scan(&v); err != nil || v != 2 {
		t.Errorf("flushed f0 = %d, %v; want the coalesced newest value 2", v, err)
	}
}
