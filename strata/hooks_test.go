package strata_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Hooked struct {
	ID   string `strata:"primary_key"`
	Name string
}

// wantHookPanic fails t unless err wraps ErrHookPanic and says every one of
// the words, and lg holds an Error line about the same hook.
func wantHookPanic(t *testing.T, err error, lg *captureLogger, hook string, words ...string) {
	t.Helper()
	if !errors.Is(err, strata.ErrHookPanic) {
		t.Fatalf("error = %v, want one wrapping ErrHookPanic", err)
	}
	for _, w := range append([]string{hook}, words...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if len(lg.find("ERROR", hook, "boom")) == 0 {
		t.Errorf("no Error log line for the %s panic; lines: %v", hook, lg.all())
	}
}

// TestAfterSetPanicReportedAfterTheWrite: a panic in AfterSet is recovered,
// logged at Error, and the call returns ErrHookPanic saying that the write
// was stored (it was: a read returns it). Set, SetMany and Tx alike.
func TestAfterSetPanicReportedAfterTheWrite(t *testing.T) {
	t.Parallel()
	hooks := strata.SchemaHooks{AfterSet: func(context.Context, any) { panic("boom in AfterSet") }}
	stores := map[string]func(ctx context.Context, t *testing.T, lg *captureLogger) (*strata.DataStore, string){
		"memory": func(_ context.Context, t *testing.T, lg *captureLogger) (*strata.DataStore, string) {
			return openStore(t, strata.Config{Logger: lg}, strata.Schema{Name: "hooked", Model: &Hooked{}, Hooks: hooks}), "hooked"
		},
		"postgres": func(ctx context.Context, t *testing.T, lg *captureLogger) (*strata.DataStore, string) {
			name := "hooked_" + testenv.Suffix()
			dsn := testenv.PostgresDSN(t)
			pgTable(t, dsn, name)
			ds := openStore(t, strata.Config{PostgresDSN: dsn, Logger: lg}, strata.Schema{Name: name, Model: &Hooked{}, Hooks: hooks})
			if err := ds.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return ds, name
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t) // here, after the parallel subtest has started
			lg := &captureLogger{}
			ds, schema := open(ctx, t, lg)
			writes := []struct {
				name, id string
				write    func(id string) error
			}{
				{"Set", "s1", func(id string) error { return ds.Set(ctx, schema, id, &Hooked{ID: id, Name: "n"}) }},
				{"SetMany", "m1", func(id string) error {
					return ds.SetMany(ctx, schema, map[string]any{id: &Hooked{ID: id, Name: "n"}})
				}},
				{"Tx", "t1", func(id string) error { return ds.Tx(ctx).Set(schema, id, &Hooked{ID: id, Name: "n"}).Commit() }},
			}
			for _, w := range writes {
				if w.name == "Tx" && name == "memory" {
					continue // transactions need PostgreSQL
				}
				t.Run(w.name, func(t *testing.T) {
					wantHookPanic(t, w.write(w.id), lg, "AfterSet", "boom in AfterSet", "the write was stored")
					got, err := strata.GetTyped[Hooked](ctx, ds, schema, w.id)
					if err != nil || got.Name != "n" {
						t.Errorf("after the AfterSet panic, Get = %+v, %v; want the record written", got, err)
					}
				})
			}
		})
	}
}

// TestAfterGetPanicReportedWithTheValue: a panic in AfterGet is recovered,
// logged at Error, and Get/GetTyped return ErrHookPanic saying that the
// value was read, with the value filled in.
func TestAfterGetPanicReportedWithTheValue(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lg := &captureLogger{}
	ds := openStore(t, strata.Config{Logger: lg}, strata.Schema{Name: "hooked", Model: &Hooked{},
		Hooks: strata.SchemaHooks{AfterGet: func(context.Context, any) { panic("boom in AfterGet") }}})
	if err := ds.Set(ctx, "hooked", "g1", &Hooked{ID: "g1", Name: "read me"}); err != nil {
		t.Fatal(err)
	}
	var dest Hooked
	wantHookPanic(t, ds.Get(ctx, "hooked", "g1", &dest), lg, "AfterGet", "boom in AfterGet", "the value was read")
	if dest.Name != "read me" {
		t.Errorf("Get filled %+v, want the record read", dest)
	}
	got, err := strata.GetTyped[Hooked](ctx, ds, "hooked", "g1")
	wantHookPanic(t, err, lg, "AfterGet", "the value was read")
	if got.Name != "read me" {
		t.Errorf("GetTyped returned %+v, want the record read", got)
	}
}

// TestOnWriteErrorPanicLogged: a panic in OnWriteError is recovered and
// logged at Error; the flusher goes on, and the record lands once
// PostgreSQL can take it.
func TestOnWriteErrorPanicLogged(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := testenv.PostgresDSN(t)
	name := "wberr_" + testenv.Suffix()
	pgTable(t, dsn, name)
	lg := &captureLogger{}
	ds := openStore(t, strata.Config{PostgresDSN: dsn, Logger: lg, WriteBehindFlushInterval: 10 * time.Millisecond, WriteBehindMaxRetry: 1},
		strata.Schema{Name: name, Model: &Hooked{}, WriteMode: strata.WriteBehind,
			Hooks: strata.SchemaHooks{OnWriteError: func(context.Context, string, error) { panic("boom in OnWriteError") }}})
	// No Migrate yet: every flush fails until the table exists.
	if err := ds.Set(ctx, name, "w1", &Hooked{ID: "w1", Name: "pending"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(lg.find("ERROR", "OnWriteError", "boom in OnWriteError")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no Error log line for the OnWriteError panic within 10s; lines: %v", lg.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatalf("FlushDirty after the panic: %v", err)
	}
	if n := ds.Stats().DirtyCount; n != 0 {
		t.Errorf("DirtyCount = %d after FlushDirty, want 0", n)
	}
}
