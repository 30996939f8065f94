package strata_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/clock"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestAutoNowAddReturnsStoredTime: instance A inserts a record; instance B,
// which has never read it (empty L1), writes the same id with a zero
// auto_now_add field. PostgreSQL keeps A's time (the column is insert-only),
// and that is the time B's caller and B's AfterSet hook see.
func TestAutoNowAddReturnsStoredTime(t *testing.T) {
	t.Parallel()
	for _, p := range writePaths {
		if p.mode == strata.WriteBehind {
			continue // Set returns before PostgreSQL is written
		}
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
			name := "created_" + testenv.Suffix()
			conn := pgTable(t, dsn, name)
			ctx := ctxT(t)
			cfg := strata.Config{PostgresDSN: dsn, RedisAddr: addr, EncryptionKey: testKey, InvalidationChannel: "strata:test:" + name}

			// A writes first, at a time long past.
			created := time.Date(2020, 1, 2, 3, 4, 5, 678901000, time.UTC)
			cfgA := cfg
			cfgA.Clock = clock.NewFake(created)
			a := openStore(t, cfgA, strata.Schema{Name: name, Model: &Vault{}})
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.write(ctx, a, name, map[string]*Vault{"c1": {ID: "c1", Name: "first"}}); err != nil {
				t.Fatal(err)
			}

			// B, with an empty L1, writes the same id without CreatedAt.
			var (
				mu   sync.Mutex
				seen []time.Time
			)
			b := openStore(t, cfg, strata.Schema{Name: name, Model: &Vault{}, Hooks: strata.SchemaHooks{
				AfterSet: func(_ context.Context, v any) {
					mu.Lock()
					seen = append(seen, v.(*Vault).CreatedAt)
					mu.Unlock()
				},
			}})
			if b.L1Has(name, "c1") {
				t.Fatal("B already holds c1 in L1")
			}
			upd := &Vault{ID: "c1", Name: "second"}
			if err := p.write(ctx, b, name, map[string]*Vault{"c1": upd}); err != nil {
				t.Fatal(err)
			}

			var stored time.Time
			if err := conn.QueryRow(ctx, "SELECT created_at FROM "+pgx.Identifier{name}.Sanitize()+" WHERE id = 'c1'").Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if !stored.Equal(created) {
				t.Fatalf("PostgreSQL holds created_at %v, want A's %v", stored, created)
			}
			if !upd.CreatedAt.Equal(created) {
				t.Errorf("B's caller sees CreatedAt %v, PostgreSQL holds %v", upd.CreatedAt, created)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || !seen[0].Equal(created) {
				t.Errorf("B's AfterSet saw CreatedAt %v, PostgreSQL holds %v", seen, created)
			}
			if upd.UpdatedAt.Equal(created) || upd.UpdatedAt.IsZero() {
				t.Errorf("B's UpdatedAt = %v, want B's own write time", upd.UpdatedAt)
			}
		})
	}
}
