package strata_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// SpecPlayer is the model of the API specification, as written there.
type SpecPlayer struct {
	ID        string `strata:"primary_key"`
	Username  string `strata:"unique,index"`
	Email     string `strata:"index,nullable"`
	Level     int    `strata:"default:1"`
	Score     int64
	APIKey    string    `strata:"encrypted"`  // AES-256-GCM, string fields only
	Password  string    `strata:"omit_cache"` // Postgres only; never in L1/L2
	Notes     string    `strata:"nullable"`
	CreatedAt time.Time `strata:"auto_now_add"` // set once on first write
	UpdatedAt time.Time `strata:"auto_now"`     // updated on every write
	Internal  string    `strata:"-"`            // completely ignored
}

type PlayerService struct {
	ds     *strata.DataStore
	schema string
}

// NewPlayerService follows the spec's "Service initialization" pattern.
func NewPlayerService(cfg strata.Config, schema string) (*PlayerService, error) {
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		return nil, fmt.Errorf("strata init: %w", err)
	}
	if err := ds.Register(strata.Schema{
		Name:  schema,
		Model: &SpecPlayer{},
		L1:    strata.MemPolicy{TTL: time.Minute, MaxEntries: 10_000},
		L2:    strata.RedisPolicy{TTL: 30 * time.Minute},
	}); err != nil {
		return nil, err
	}
	if err := ds.Migrate(context.Background()); err != nil {
		return nil, err
	}
	return &PlayerService{ds: ds, schema: schema}, nil
}

// ListTopPlayers follows the spec's "Paged search" pattern.
func (s *PlayerService) ListTopPlayers(ctx context.Context, page, size int) ([]SpecPlayer, error) {
	q := strata.Q().
		OrderBy("score").Desc().
		Limit(size).Offset(page * size).
		Build()
	return strata.SearchTyped[SpecPlayer](ctx, s.ds, s.schema, &q)
}

func TestSpecExamples(t *testing.T) {
	t.Parallel()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "players_" + testenv.Suffix()
	svc, err := NewPlayerService(strata.Config{
		PostgresDSN: dsn, RedisAddr: addr, EncryptionKey: testKey,
		InvalidationChannel: "strata:test:" + name,
	}, name)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.ds.Close()
	pgTable(t, dsn, name)

	// Migrate is idempotent.
	if err := svc.ds.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	// Upsert pattern: Set always upserts.
	for i := range 7 {
		p := &SpecPlayer{ID: fmt.Sprintf("p%d", i), Username: fmt.Sprintf("user%d", i), Score: int64(i * 100), APIKey: "k", Password: "pw"}
		if err := svc.ds.Set(ctx, name, p.ID, p); err != nil {
			t.Fatal(err)
		}
		if p.Level != 1 {
			t.Errorf("default:1 not applied: %d", p.Level)
		}
	}
	page, err := svc.ListTopPlayers(ctx, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].ID != "p3" || page[2].ID != "p1" {
		t.Errorf("page 1 of 3 = %v", page)
	}
	// Check-then-set via Exists.
	exists, err := svc.ds.Exists(ctx, name, "p9")
	if err != nil || exists {
		t.Fatalf("Exists(p9) = %v, %v", exists, err)
	}
	if err := svc.ds.Set(ctx, name, "p9", &SpecPlayer{ID: "p9", Username: "newbie"}); err != nil {
		t.Fatal(err)
	}
	// A unique violation keeps the PostgreSQL error reachable.
	err = svc.ds.Set(ctx, name, "p10", &SpecPlayer{ID: "p10", Username: "newbie"})
	if err == nil {
		t.Error("duplicate username accepted")
	}
	// The error-handling switch of the spec.
	var p SpecPlayer
	err = svc.ds.Get(ctx, name, "ghost", &p)
	switch {
	case errors.Is(err, strata.ErrNotFound):
	default:
		t.Errorf("Get(ghost) = %v, want ErrNotFound", err)
	}
	if err := svc.ds.Get(ctx, "no_such_schema", "x", &p); !errors.Is(err, strata.ErrSchemaNotFound) {
		t.Errorf("unknown schema: %v", err)
	}
	// Count with a filter.
	q := strata.Q().Where("score >= $1", 300).Build()
	if n, err := svc.ds.Count(ctx, name, &q); err != nil || n != 4 {
		t.Errorf("Count = %d, %v; want 4", n, err)
	}
}

// Concurrent misses of one cold key collapse into one L3 read.
func TestConcurrentMissesCollapse(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	if err := tt.ds.Set(ctx, tt.schema, "hot", &Account{ID: "hot", Username: "hot"}); err != nil {
		t.Fatal(err)
	}
	tt.rdb.Del(ctx, "strata:"+tt.schema+":hot")
	rec := &recorder{hits: map[string]int{}}
	ds := openStore(t, strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel, Metrics: rec}, strata.Schema{Name: tt.schema, Model: &Account{}})
	if err := ds.WaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "hot"); err != nil || got.Username != "hot" {
				t.Errorf("Get = %+v, %v", got, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.hits["l3"] != 1 {
		t.Errorf("%d concurrent Gets of a cold key read L3 %d times, want 1", n, rec.hits["l3"])
	}
}
