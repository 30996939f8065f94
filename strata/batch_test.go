package strata_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
)

func TestSetManyGetMany(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	other := tt.open(t)
	pairs := map[string]any{}
	for i := range 50 {
		id := fmt.Sprintf("m%02d", i)
		pairs[id] = &Account{ID: id, Username: "u" + id, Score: int64(i), Password: "pw"}
	}
	if err := tt.ds.SetMany(ctx, tt.schema, pairs); err != nil {
		t.Fatal(err)
	}
	if got := pairs["m07"].(*Account); got.Level != 1 || got.CreatedAt.IsZero() {
		t.Errorf("SetMany did not fill defaults back: %+v", got)
	}
	var n int64
	if err := tt.pg.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{tt.schema}.Sanitize()).Scan(&n); err != nil || n != 50 {
		t.Fatalf("rows in L3 = %d, %v", n, err)
	}
	// GetMany on another instance: L2 hits for most, L3 for a key removed
	// from Redis, absent ids left out.
	tt.rdb.Del(ctx, "strata:"+tt.schema+":m03")
	ids := []string{"m01", "m03", "m49", "nope"}
	got, err := strata.GetManyTyped[Account](ctx, other, tt.schema, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["m03"].Score != 3 || got["m49"].Username != "um49" || got["m03"].Password != "" {
		t.Errorf("GetMany = %+v", got)
	}
	if _, ok := got["nope"]; ok {
		t.Error("an absent id is in the result")
	}
	// Another SetMany keeps created_at and is seen by the other instance.
	before := got["m01"].CreatedAt
	if err := tt.ds.SetMany(ctx, tt.schema, map[string]any{"m01": &Account{ID: "m01", Username: "um01", Score: 999}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance to see the new m01", func() bool {
		a, err := strata.GetTyped[Account](ctx, other, tt.schema, "m01")
		return err == nil && a.Score == 999 && a.CreatedAt.Equal(before)
	})
	// A bad value aborts the whole batch before anything is written.
	err = tt.ds.SetMany(ctx, tt.schema, map[string]any{"ok": &Account{ID: "ok"}, "bad": &Account{ID: "other"}})
	if !errors.Is(err, strata.ErrInvalidModel) {
		t.Errorf("SetMany with a mismatched id: %v", err)
	}
	if ok, _ := tt.ds.Exists(ctx, tt.schema, "ok"); ok {
		t.Error("a rejected batch wrote part of its records")
	}
}

func TestTxCommitAndRollback(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	other := tt.open(t)
	for _, id := range []string{"t1", "t2"} {
		if err := tt.ds.Set(ctx, tt.schema, id, &Account{ID: id, Username: "user-" + id, Score: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := strata.GetTyped[Account](ctx, other, tt.schema, id); err != nil {
			t.Fatal(err)
		}
	}
	// Commit: both changes land everywhere.
	err := tt.ds.Tx(ctx).
		Set(tt.schema, "t1", &Account{ID: "t1", Username: "user-t1", Score: 2}).
		Delete(tt.schema, "t2").
		Set(tt.schema, "t3", &Account{ID: "t3", Username: "user-t3", Score: 3}).
		Commit()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance to see the commit", func() bool {
		a, err1 := strata.GetTyped[Account](ctx, other, tt.schema, "t1")
		_, err2 := strata.GetTyped[Account](ctx, other, tt.schema, "t2")
		return err1 == nil && a.Score == 2 && errors.Is(err2, strata.ErrNotFound)
	})

	// Rollback on a constraint violation: nothing changes in any tier.
	err = tt.ds.Tx(ctx).
		Set(tt.schema, "t1", &Account{ID: "t1", Username: "user-t1", Score: 100}).
		Set(tt.schema, "t4", &Account{ID: "t4", Username: "user-t3"}). // duplicate username
		Commit()
	if !errors.Is(err, strata.ErrTxFailed) {
		t.Fatalf("constraint violation: %v, want ErrTxFailed", err)
	}
	if strata.IsRetryable(err) {
		t.Error("a unique violation reported as retryable")
	}
	// A failing hook: nothing is written at all.
	hooked := openStore(t, strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel}, strata.Schema{Name: tt.schema, Model: &Account{}, Hooks: strata.SchemaHooks{
		BeforeSet: func(_ context.Context, v any) error {
			if v.(*Account).Score < 0 {
				return errors.New("negative score")
			}
			return nil
		},
	}})
	err = hooked.Tx(ctx).
		Set(tt.schema, "t1", &Account{ID: "t1", Username: "user-t1", Score: 50}).
		Set(tt.schema, "t5", &Account{ID: "t5", Username: "user-t5", Score: -1}).
		Commit()
	if err == nil || err.Error() != "negative score" {
		t.Fatalf("failing hook: %v", err)
	}
	for _, ds := range []*strata.DataStore{tt.ds, other, tt.open(t)} {
		a, err := strata.GetTyped[Account](ctx, ds, tt.schema, "t1")
		if err != nil || a.Score != 2 {
			t.Errorf("after rollbacks t1 = %+v, %v; want score 2", a, err)
		}
		for _, id := range []string{"t4", "t5"} {
			if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, id); !errors.Is(err, strata.ErrNotFound) {
				t.Errorf("%s after rollback: %v", id, err)
			}
		}
	}
	// A deadline that passes makes ErrTxTimeout.
	dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	err = tt.ds.Tx(dctx).Set(tt.schema, "t6", &Account{ID: "t6", Username: "u6"}).Commit()
	if !errors.Is(err, strata.ErrTxTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired deadline: %v", err)
	}
}

func TestSearchCachedNeverStale(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	other := tt.open(t)
	for i := range 5 {
		id := fmt.Sprintf("s%d", i)
		if err := tt.ds.Set(ctx, tt.schema, id, &Account{ID: id, Username: id, Score: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	q := strata.Q().Where("score >= $1", 2).OrderBy("score").Build()
	search := func(ds *strata.DataStore) []string {
		t.Helper()
		var rows []Account
		if err := ds.SearchCached(ctx, tt.schema, &q, &rows); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return ids
	}
	if diff := cmp.Diff([]string{"s2", "s3", "s4"}, search(tt.ds)); diff != "" {
		t.Fatalf("first SearchCached (-want +got):\n%s", diff)
	}
	keys, _ := tt.rdb.Keys(ctx, "strata:#q:"+tt.schema+":*").Result()
	if len(keys) == 0 {
		t.Fatal("the result set was not cached in redis")
	}
	// A write through another instance: the cached result is never served again.
	if err := other.Set(ctx, tt.schema, "s9", &Account{ID: "s9", Username: "s9", Score: 9}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s2", "s3", "s4", "s9"}, search(tt.ds)); diff != "" {
		t.Errorf("after another instance's Set (-want +got):\n%s", diff)
	}
	if err := other.Delete(ctx, tt.schema, "s3"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s2", "s4", "s9"}, search(tt.ds)); diff != "" {
		t.Errorf("after another instance's Delete (-want +got):\n%s", diff)
	}
	// InvalidateAll after a change behind Strata's back.
	if _, err := tt.pg.Exec(ctx, "UPDATE "+pgx.Identifier{tt.schema}.Sanitize()+" SET score = 0 WHERE id = 's9'"); err != nil {
		t.Fatal(err)
	}
	if err := other.InvalidateAll(ctx, tt.schema); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s2", "s4"}, search(tt.ds)); diff != "" {
		t.Errorf("after InvalidateAll (-want +got):\n%s", diff)
	}
	waitFor(t, "L1 of every instance to be flushed", func() bool { return !tt.ds.L1Has(tt.schema, "s9") })
	if a, err := strata.GetTyped[Account](ctx, tt.ds, tt.schema, "s9"); err != nil || a.Score != 0 {
		t.Errorf("Get after InvalidateAll = %+v, %v", a, err)
	}
}

func TestInvalidateAndWarmCache(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	pairs := map[string]any{}
	for i := range 1200 {
		id := fmt.Sprintf("w%04d", i)
		pairs[id] = &Account{ID: id, Username: id}
	}
	if err := tt.ds.SetMany(ctx, tt.schema, pairs); err != nil {
		t.Fatal(err)
	}
	if err := tt.ds.InvalidateAll(ctx, tt.schema); err != nil {
		t.Fatal(err)
	}
	if n, _ := tt.rdb.Exists(ctx, "strata:"+tt.schema+":w0001").Result(); n != 0 || tt.ds.L1Len(tt.schema) != 0 {
		t.Fatalf("InvalidateAll left L2 key=%d, L1 entries=%d", n, tt.ds.L1Len(tt.schema))
	}
	if err := tt.ds.WarmCache(ctx, tt.schema, 700); err != nil {
		t.Fatal(err)
	}
	if n := tt.ds.L1Len(tt.schema); n != 700 {
		t.Errorf("WarmCache(700) loaded %d entries in L1", n)
	}
	if err := tt.ds.WarmCache(ctx, tt.schema, 0); err != nil {
		t.Fatal(err)
	}
	if n := tt.ds.L1Len(tt.schema); n != 1200 {
		t.Errorf("WarmCache(0) loaded %d entries in L1, want all 1200", n)
	}
	if n, _ := tt.rdb.Exists(ctx, "strata:"+tt.schema+":w1199").Result(); n != 1 {
		t.Error("WarmCache did not fill L2")
	}
	if err := tt.ds.Invalidate(ctx, tt.schema, "w0005"); err != nil {
		t.Fatal(err)
	}
	if tt.ds.L1Has(tt.schema, "w0005") {
		t.Error("Invalidate left the L1 entry")
	}
	if n, _ := tt.rdb.Exists(ctx, "strata:"+tt.schema+":w0005").Result(); n != 0 {
		t.Error("Invalidate left the L2 key")
	}
}
