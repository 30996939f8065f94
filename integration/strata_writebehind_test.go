package integration_test

import (
	"errors"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// TestWriteBehindFailedDeleteKeepsPending: a Delete that PostgreSQL
// refuses leaves a pending write-behind value pending: the acknowledged Set
// is not lost, and lands once PostgreSQL is back.
func TestWriteBehindFailedDeleteKeepsPending(t *testing.T) {
	t.Parallel()
	pg := pgkit.StartServer(t)
	ctx := ctxT(t)
	name := "wbdel_" + testkit.Suffix()
	ds := open(t, strata.Config{PostgresDSN: pg.DSN, WriteBehindFlushInterval: time.Hour}, strata.Schema{Name: name, Model: &Score{}, WriteMode: strata.WriteBehind})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, name, "d", &Score{ID: "d", Value: 42}); err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ds.Delete(ctx, name, "d"); !errors.Is(err, strata.ErrL3Unavailable) {
		t.Fatalf("Delete with PostgreSQL down: %v", err)
	}
	if n := ds.Stats().DirtyCount; n != 1 {
		t.Errorf("DirtyCount after a failed Delete = %d, want 1 (the Set stays pending)", n)
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	// The pool's connections from before the restart fail once each
	// (57P01); the flush is retried as the flusher would.
	waitFor(t, "the flush after the restart", 30*time.Second, func() bool { return ds.FlushDirty(ctx) == nil })
	if s, err := strata.GetTyped[Score](ctx, ds, name, "d"); err != nil || s.Value != 42 {
		t.Errorf("after the restart and flush: %+v, %v", s, err)
	}
}
