package strata_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/clock"
)

type Player struct {
	ID        string `strata:"primary_key"`
	Username  string `strata:"unique,index"`
	Level     int    `strata:"default:1"`
	Score     int64
	Tags      []string
	Password  string    `strata:"omit_cache"`
	CreatedAt time.Time `strata:"auto_now_add"`
	UpdatedAt time.Time `strata:"auto_now"`
	Internal  string    `strata:"-"`
}

type Flat struct {
	ID    string `strata:"primary_key"`
	Name  string
	Score int64
	At    time.Time
}

func newMemStore(t testing.TB, cfg strata.Config) *strata.DataStore {
	t.Helper()
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	if err := ds.Register(strata.Schema{Name: "players", Model: &Player{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Register(strata.Schema{Model: &Flat{}}); err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestMemStoreSetGetDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC))
	ds := newMemStore(t, strata.Config{Clock: fake})

	in := &Player{ID: "p1", Username: "ada", Score: 10, Tags: []string{"a"}, Password: "hash", Internal: "x"}
	if err := ds.Set(ctx, "players", "p1", in); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	if !in.CreatedAt.Equal(created) || !in.UpdatedAt.Equal(created) || in.Level != 1 {
		t.Errorf("Set did not report filled fields back: %+v", in)
	}

	var got Player
	if err := ds.Get(ctx, "players", "p1", &got); err != nil {
		t.Fatal(err)
	}
	want := Player{ID: "p1", Username: "ada", Level: 1, Score: 10, Tags: []string{"a"}, CreatedAt: created, UpdatedAt: created}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get (-want +got; omit_cache and - fields are not cached):\n%s", diff)
	}

	// auto_now moves, auto_now_add stays.
	fake.Advance(time.Hour)
	upd := &Player{ID: "p1", Username: "ada", Score: 11}
	if err := ds.Set(ctx, "players", "p1", upd); err != nil {
		t.Fatal(err)
	}
	p, err := strata.GetTyped[Player](ctx, ds, "players", "p1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.CreatedAt.Equal(created) || !p.UpdatedAt.Equal(created.Add(time.Hour)) || p.Score != 11 {
		t.Errorf("after update: %+v", p)
	}

	if ok, err := ds.Exists(ctx, "players", "p1"); err != nil || !ok {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if err := ds.Delete(ctx, "players", "p1"); err != nil {
		t.Fatal(err)
	}
	if err := ds.Get(ctx, "players", "p1", &got); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if ok, _ := ds.Exists(ctx, "players", "p1"); ok {
		t.Error("Exists after Delete = true")
	}
	if err := ds.Delete(ctx, "players", "p1"); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	s := ds.Stats()
	if s.Gets != 3 || s.Sets != 2 || s.Deletes != 2 || s.Errors != 0 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestMemStoreIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ds := newMemStore(t, strata.Config{})
	in := &Player{ID: "p1", Tags: []string{"orig"}}
	if err := ds.Set(ctx, "players", "p1", in); err != nil {
		t.Fatal(err)
	}
	in.Tags[0] = "mutated-after-set"
	var a Player
	if err := ds.Get(ctx, "players", "p1", &a); err != nil {
		t.Fatal(err)
	}
	a.Tags[0] = "mutated-after-get"
	b, err := strata.GetTyped[Player](ctx, ds, "players", "p1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Tags[0] != "orig" {
		t.Errorf("the cache was changed through a caller's value: %q", b.Tags[0])
	}
}

func TestMemStoreErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ds := newMemStore(t, strata.Config{})
	var p Player
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown schema", func() error { return ds.Get(ctx, "nope", "x", &p) }, strata.ErrSchemaNotFound},
		{"wrong dest type", func() error { var f Flat; return ds.Get(ctx, "players", "x", &f) }, strata.ErrInvalidModel},
		{"non-pointer dest", func() error { return ds.Get(ctx, "players", "x", p) }, strata.ErrInvalidModel},
		{"nil dest", func() error { return ds.Get(ctx, "players", "x", nil) }, strata.ErrInvalidModel},
		{"missing", func() error { return ds.Get(ctx, "players", "x", &p) }, strata.ErrNotFound},
		{"empty id", func() error { return ds.Get(ctx, "players", "", &p) }, strata.ErrMissingPrimaryKey},
		{"set empty id", func() error { return ds.Set(ctx, "players", "", &Player{}) }, strata.ErrMissingPrimaryKey},
		{"set empty pk field", func() error { return ds.Set(ctx, "players", "a", &Player{}) }, strata.ErrMissingPrimaryKey},
		{"set id mismatch", func() error { return ds.Set(ctx, "players", "a", &Player{ID: "b"}) }, strata.ErrInvalidModel},
		{"set wrong type", func() error { return ds.Set(ctx, "players", "a", &Flat{ID: "a"}) }, strata.ErrInvalidModel},
		{"set nil", func() error { return ds.Set(ctx, "players", "a", nil) }, strata.ErrInvalidModel},
		{"set nil pointer", func() error { return ds.Set(ctx, "players", "a", (*Player)(nil)) }, strata.ErrInvalidModel},
		{"typed wrong T", func() error { _, err := strata.GetTyped[Flat](ctx, ds, "players", "a"); return err }, strata.ErrInvalidModel},
		{"GetMany into a named key type", func() error {
			type PlayerID string
			m := map[PlayerID]Player{}
			return ds.GetMany(ctx, "players", []string{"a"}, &m)
		}, strata.ErrInvalidModel},
		{"duplicate schema", func() error { return ds.Register(strata.Schema{Name: "players", Model: &Player{}}) }, strata.ErrSchemaDuplicate},
		{"cancelled ctx", func() error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return ds.Get(c, "players", "x", &p)
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want one wrapping %v", err, tt.want)
			}
		})
	}
	// A Model value (not a pointer) is accepted by Set.
	if err := ds.Set(ctx, "players", "v", Player{ID: "v"}); err != nil {
		t.Errorf("Set with a value: %v", err)
	}
}

func TestMemStoreHooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ds, err := strata.NewDataStore(strata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	var after []string
	err = ds.Register(strata.Schema{Name: "players", Model: &Player{}, Hooks: strata.SchemaHooks{
		BeforeSet: func(_ context.Context, v any) error {
			p := v.(*Player)
			switch p.Username {
			case "":
				return errors.New("username required")
			case "boom":
				panic("hook exploded")
			}
			return nil
		},
		AfterSet: func(_ context.Context, v any) { after = append(after, v.(*Player).ID) },
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, "players", "a", &Player{ID: "a"}); err == nil || err.Error() != "username required" {
		t.Errorf("BeforeSet error not returned as is: %v", err)
	}
	if err := ds.Set(ctx, "players", "b", &Player{ID: "b", Username: "boom"}); !errors.Is(err, strata.ErrHookPanic) {
		t.Errorf("panicking hook: %v, want ErrHookPanic", err)
	}
	if ok, _ := ds.Exists(ctx, "players", "a"); ok {
		t.Error("an aborted write reached L1")
	}
	if err := ds.Set(ctx, "players", "c", &Player{ID: "c", Username: "ok"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"c"}, after); diff != "" {
		t.Errorf("AfterSet saw (-want +got):\n%s", diff)
	}
}

func TestMemStoreClosed(t *testing.T) {
	t.Parallel()
	ds, err := strata.NewDataStore(strata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Register(strata.Schema{Model: &Flat{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if err := ds.Set(ctx, "flat", "a", &Flat{ID: "a"}); !errors.Is(err, strata.ErrUnavailable) {
		t.Errorf("Set after Close: %v", err)
	}
	if err := ds.Register(strata.Schema{Name: "x", Model: &Flat{}}); !errors.Is(err, strata.ErrUnavailable) {
		t.Errorf("Register after Close: %v", err)
	}
}

func TestMemStoreConcurrentSafe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ds := newMemStore(t, strata.Config{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				id := string(rune('a' + (g+i)%5))
				switch i % 3 {
				case 0:
					_ = ds.Set(ctx, "players", id, &Player{ID: id, Tags: []string{id}})
				case 1:
					var p Player
					if err := ds.Get(ctx, "players", id, &p); err == nil && p.ID != id {
						t.Errorf("Get(%s) returned %s", id, p.ID)
					}
				default:
					_ = ds.Delete(ctx, "players", id)
				}
			}
		}()
	}
	wg.Wait()
}

func TestSlogLoggerFits(t *testing.T) {
	t.Parallel()
	var _ strata.Logger = slog.Default()
	ds, err := strata.NewDataStore(strata.Config{Logger: slog.Default()})
	if err != nil {
		t.Fatal(err)
	}
	ds.Close()
}

func BenchmarkGetTypedL1Hit(b *testing.B) {
	ctx := context.Background()
	ds := newMemStore(b, strata.Config{})
	if err := ds.Set(ctx, "flat", "f1", &Flat{ID: "f1", Name: "x", Score: 3, At: time.Now()}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := strata.GetTyped[Flat](ctx, ds, "flat", "f1"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGetTypedL1HitDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	ds := newMemStore(t, strata.Config{})
	if err := ds.Set(ctx, "flat", "f1", &Flat{ID: "f1", Name: "x"}); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(1000, func() {
		if _, err := strata.GetTyped[Flat](ctx, ds, "flat", "f1"); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("GetTyped L1 hit allocated %v times per call", n)
	}
}

func BenchmarkGetTypedL1HitParallel(b *testing.B) {
	ctx := context.Background()
	ds := newMemStore(b, strata.Config{})
	for i := range 64 {
		id := fmt.Sprintf("f%d", i)
		if err := ds.Set(ctx, "flat", id, &Flat{ID: id, Name: "x"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ids := make([]string, 64)
		for i := range ids {
			ids[i] = fmt.Sprintf("f%d", i)
		}
		i := 0
		for pb.Next() {
			i++
			if _, err := strata.GetTyped[Flat](ctx, ds, "flat", ids[i&63]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A schema whose ReadReplica DSN cannot be parsed is refused, not a panic.
func TestRegisterBadReadReplica(t *testing.T) {
	t.Parallel()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: "postgres://u@127.0.0.1:1/db?sslmode=disable"})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	err = ds.Register(strata.Schema{Name: "r", Model: &Flat{}, L3: strata.PostgresPolicy{ReadReplica: "port=notanumber"}})
	if !errors.Is(err, strata.ErrInvalidModel) {
		t.Errorf("Register with a bad replica DSN: %v", err)
	}
}
