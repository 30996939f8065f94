package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/integration/harness"
)

func suffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestPostgresRoundTrip proves the PostgreSQL server accepts DDL, writes and
// reads: a table with a random name is created, written, read back and dropped.
func TestPostgresRoundTrip(t *testing.T) {
	t.Parallel()
	dsn := harness.PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) }) // runs after the DROP below

	table := pgx.Identifier{"roundtrip_" + suffix(t)}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id TEXT PRIMARY KEY, n BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table); err != nil {
			t.Errorf("drop table: %v", err)
		}
	})
	at := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	if _, err := conn.Exec(ctx, "INSERT INTO "+table+" (id, n, at) VALUES ($1, $2, $3)", "a", int64(42), at); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var (
		n   int64
		got time.Time
	)
	if err := conn.QueryRow(ctx, "SELECT n, at FROM "+table+" WHERE id = $1", "a").Scan(&n, &got); err != nil {
		t.Fatalf("select: %v", err)
	}
	if n != 42 || !got.Equal(at) {
		t.Errorf("read back (%d, %s), want (42, %s)", n, got, at)
	}
}

// TestRedisRoundTrip proves the Redis server stores, expires and deletes keys.
func TestRedisRoundTrip(t *testing.T) {
	t.Parallel()
	addr := harness.RedisAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()

	key := "strata:test:roundtrip:" + suffix(t)
	if err := rdb.Set(ctx, key, "value", time.Minute).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := rdb.Get(ctx, key).Result()
	if err != nil || got != "value" {
		t.Fatalf("GET = %q, %v; want \"value\"", got, err)
	}
	ttl, err := rdb.TTL(ctx, key).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v, %v; want within (0, 1m]", ttl, err)
	}
	if n, err := rdb.Del(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("DEL = %d, %v; want 1", n, err)
	}
	if _, err := rdb.Get(ctx, key).Result(); err != redis.Nil {
		t.Errorf("GET after DEL: err = %v, want redis.Nil", err)
	}
}
