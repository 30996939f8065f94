package strata_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type RotVault struct {
	ID     string `strata:"primary_key"`
	Secret string `strata:"encrypted"`
	Note   string
}

// keyIDOf is the key id Strata puts in sealed values (see keyring.go).
func keyIDOf(key []byte) string {
	sum := sha256.Sum256(append([]byte("strata/key-id/v1"), key...))
	return hex.EncodeToString(sum[:4])
}

// TestReencryptRotatesKeyAndSealsPlaintextBesideWrites: 600 rows written
// before encryption was on, 600 sealed with key A. With key B and A as a
// previous key, A's rows read and plaintext rows fail with ErrDecodeFailed
// naming B's key id and Reencrypt; with B alone, A's rows fail naming A's
// key id. Reencrypt (over 3 pages) runs while 200 rows are rewritten; after
// it every row reads with B alone, with its newest value, and no cell holds
// A's key id or plaintext; a second run rewrites nothing.
func TestReencryptRotatesKeyAndSealsPlaintextBesideWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	name := "vault_" + testenv.Suffix()
	pg := pgTable(t, dsn, name)
	keyA, keyB := bytes.Repeat([]byte{0xA}, 32), bytes.Repeat([]byte{0xB}, 32)
	schema := strata.Schema{Name: name, Model: &RotVault{}}
	open := func(key []byte, prev ...[]byte) *strata.DataStore {
		return openStore(t, strata.Config{PostgresDSN: dsn, EncryptionKey: key, PreviousEncryptionKeys: prev}, schema)
	}
	plain := open(nil)
	if err := plain.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	// Each set of rows is written in one SetMany (one COPY), which seals
	// fields as Set does: 1,200 Sets one by one took seconds under -race.
	batch := map[string]any{}
	for i := range 600 {
		id := fmt.Sprintf("p%04d", i)
		want[id] = "plain-" + id
		if i == 0 {
			want[id] = "" // an empty string written in clear
		}
		batch[id] = &RotVault{ID: id, Secret: want[id]}
	}
	if err := plain.SetMany(ctx, name, batch); err != nil {
		t.Fatal(err)
	}
	withA := open(keyA)
	batch = map[string]any{}
	for i := range 600 {
		id := fmt.Sprintf("a%04d", i)
		want[id] = "sealed-" + id
		batch[id] = &RotVault{ID: id, Secret: want[id]}
	}
	if err := withA.SetMany(ctx, name, batch); err != nil {
		t.Fatal(err)
	}
	rotated := open(keyB, keyA)
	onlyB := open(keyB)
	if got, err := strata.GetTyped[RotVault](ctx, rotated, name, "a0001"); err != nil || got.Secret != want["a0001"] {
		t.Errorf("rotated store reads a row sealed with the previous key as %+v, %v", got, err)
	}
	_, err := strata.GetTyped[RotVault](ctx, rotated, name, "p0001")
	if !errors.Is(err, strata.ErrDecodeFailed) || !strings.Contains(err.Error(), keyIDOf(keyB)) || !strings.Contains(err.Error(), "Reencrypt") {
		t.Errorf("reading a plaintext row with a key set: %v; want ErrDecodeFailed naming key id %s and Reencrypt", err, keyIDOf(keyB))
	}
	_, err = strata.GetTyped[RotVault](ctx, onlyB, name, "a0001")
	if !errors.Is(err, strata.ErrDecodeFailed) || !strings.Contains(err.Error(), keyIDOf(keyA)) {
		t.Errorf("reading a row sealed with a key not configured: %v; want ErrDecodeFailed naming key id %s", err, keyIDOf(keyA))
	}

	// Live writes during Reencrypt: every third row of each kind, twice.
	var wg sync.WaitGroup
	var mu sync.Mutex
	writeErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := range 2 {
			for i := 0; i < 600; i += 6 {
				for _, p := range []string{"a", "p"} {
					id := fmt.Sprintf("%s%04d", p, i)
					v := fmt.Sprintf("live%d-%s", round, id)
					if err := rotated.Set(ctx, name, id, &RotVault{ID: id, Secret: v}); err != nil {
						select {
						case writeErr <- err:
						default:
						}
						return
					}
					mu.Lock()
					want[id] = v
					mu.Unlock()
				}
			}
		}
	}()
	res, err := rotated.Reencrypt(ctx, name)
	wg.Wait()
	if err != nil {
		t.Fatalf("Reencrypt = %+v, %v", res, err)
	}
	select {
	case err := <-writeErr:
		t.Fatalf("a live write failed: %v", err)
	default:
	}
	t.Logf("Reencrypt: %+v", res)
	if res.Rows != 1200 || res.Resealed+res.Sealed+res.Raced == 0 || res.Unreadable != 0 {
		t.Errorf("Reencrypt = %+v; want 1200 rows read, none unreadable", res)
	}
	rows, err := pg.Query(ctx, "SELECT id, secret FROM "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id, cell string
		if err := rows.Scan(&id, &cell); err != nil {
			t.Fatal(err)
		}
		n++
		if !strings.HasPrefix(cell, "s1:"+keyIDOf(keyB)+":") {
			t.Errorf("after Reencrypt %s holds %q, not a value sealed with key id %s", id, cell, keyIDOf(keyB))
		}
	}
	if err := rows.Err(); err != nil || n != 1200 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	fresh := open(keyB)
	for id, v := range want {
		got, err := strata.GetTyped[RotVault](ctx, fresh, name, id)
		if err != nil || got.Secret != v {
			t.Fatalf("after Reencrypt, %s with key B alone = %+v, %v; want secret %q", id, got, err, v)
		}
	}
	again, err := rotated.Reencrypt(ctx, name)
	if err != nil || again.Resealed+again.Sealed+again.Raced != 0 || again.Rows != 1200 {
		t.Errorf("a second Reencrypt = %+v, %v; want 1200 rows read and none rewritten", again, err)
	}
}
