package strata_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type L2Secret struct {
	ID     string `strata:"primary_key"`
	Name   string
	Secret string `strata:"encrypted"`
}

const l2SecretText = "the-plaintext-secret-0123456789"

// l2SealEnv opens a store whose schema has RedisPolicy.Encrypt set to enc
// and returns it with a Redis client and the schema name.
func l2SealEnv(t testing.TB, enc bool) (*strata.DataStore, *redis.Client, string) {
	name := "l2s_" + testenv.Suffix()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{PostgresDSN: dsn, RedisAddr: addr, EncryptionKey: bytes.Repeat([]byte{9}, 32), InvalidationChannel: "strata:test:" + name},
		strata.Schema{Name: name, Model: &L2Secret{}, L2: strata.RedisPolicy{Encrypt: enc}})
	if err := ds.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return ds, rdb, name
}

// TestRedisPolicyEncryptSealsEncryptedFieldsInRedis: with Encrypt the
// Redis copy of a record holds no plaintext of its encrypted field, and an
// L2 hit reads it back; without it Redis holds the plaintext.
func TestRedisPolicyEncryptSealsEncryptedFieldsInRedis(t *testing.T) {
	for _, enc := range []bool{false, true} {
		ds, rdb, name := l2SealEnv(t, enc)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ds.Set(ctx, name, "u1", &L2Secret{ID: "u1", Name: "ada", Secret: l2SecretText}); err != nil {
			t.Fatal(err)
		}
		// (The writer's own L1 holds it: drop it so the read fills Redis.)
		ds.DropL1(name, "u1")
		if _, err := strata.GetTyped[L2Secret](ctx, ds, name, "u1"); err != nil { // fills Redis
			t.Fatal(err)
		}
		var raw []byte
		waitFor(t, "the Redis fill", func() bool {
			b, err := rdb.Get(ctx, l2redis.Key(name, "u1")).Bytes()
			raw = b
			return err == nil && bytes.Contains(b, []byte("ada"))
		})
		if got := bytes.Contains(raw, []byte(l2SecretText)); got == enc {
			t.Errorf("Encrypt=%v: plaintext of the encrypted field in Redis = %v", enc, got)
		}
		ds.DropL1(name, "u1")
		got, err := strata.GetTyped[L2Secret](ctx, ds, name, "u1") // an L2 hit
		if err != nil || got.Secret != l2SecretText {
			t.Errorf("Encrypt=%v: L2 hit = %+v, %v", enc, got, err)
		}
		if enc && !strings.Contains(string(raw), "s1:") {
			t.Errorf("Encrypt: the Redis value carries no sealed field: %q", raw)
		}
	}
}

// BenchmarkL2HitEncrypt: an L2 hit of a record with one encrypted field,
// with and without RedisPolicy.Encrypt, in the same run:
//
//	go test -run '^$' -bench L2HitEncrypt -benchtime 20000x
func BenchmarkL2HitEncrypt(b *testing.B) {
	for _, enc := range []bool{false, true} {
		ds, _, name := l2SealEnv(b, enc)
		ctx := context.Background()
		if err := ds.Set(ctx, name, "u1", &L2Secret{ID: "u1", Name: "ada", Secret: l2SecretText}); err != nil {
			b.Fatal(err)
		}
		b.Run(map[bool]string{false: "plain", true: "sealed"}[enc], func(b *testing.B) {
			for range 3 { // fill Redis (a background fill after a miss)
				ds.DropL1(name, "u1")
				_, _ = strata.GetTyped[L2Secret](ctx, ds, name, "u1")
				time.Sleep(20 * time.Millisecond)
			}
			b.ReportAllocs()
			for b.Loop() {
				ds.DropL1(name, "u1")
				if _, err := strata.GetTyped[L2Secret](ctx, ds, name, "u1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
