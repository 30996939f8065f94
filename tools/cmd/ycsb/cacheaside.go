package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// cacheAsideDB is cache-aside as commonly written with pgx and go-redis:
// read GET → SELECT → SET (with a TTL), write UPSERT → DEL.
type cacheAsideDB struct {
	pool   *pgxpool.Pool
	rdb    *redis.Client
	table  string
	prefix string
}

const caTTL = 30 * time.Minute

func newCacheAsideDB(ctx context.Context, env benchEnv, table string) (*cacheAsideDB, error) {
	pool, err := pgxpool.New(ctx, env.dsn)
	if err != nil {
		return nil, err
	}
	cols := make([]string, 10)
	for i := range cols {
		cols[i] = fmt.Sprintf("field%d TEXT", i)
	}
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+pgx.Identifier{table}.Sanitize()+" (ycsb_key TEXT PRIMARY KEY, "+strings.Join(cols, ", ")+")"); err != nil {
		pool.Close()
		return nil, err
	}
	return &cacheAsideDB{pool: pool, rdb: redis.NewClient(&redis.Options{Addr: env.redis}), table: pgx.Identifier{table}.Sanitize(), prefix: "ca:" + table + ":"}, nil
}

func (d *cacheAsideDB) Close() error {
	d.pool.Close()
	return d.rdb.Close()
}
func (d *cacheAsideDB) InitThread(ctx context.Context, _, _ int) context.Context { return ctx }
func (d *cacheAsideDB) CleanupThread(context.Context)                            {}

const caCols = "field0, field1, field2, field3, field4, field5, field6, field7, field8, field9"

func scanRow(row pgx.Row) (map[string][]byte, error) {
	var f [10]string
	if err := row.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, 10)
	for i := range f {
		out[fmt.Sprintf("field%d", i)] = []byte(f[i])
	}
	return out, nil
}

func (d *cacheAsideDB) Read(ctx context.Context, _ string, key string, _ []string) (map[string][]byte, error) {
	if b, err := d.rdb.Get(ctx, d.prefix+key).Bytes(); err == nil {
		var m map[string][]byte
		if json.Unmarshal(b, &m) == nil {
			return m, nil
		}
	} else if !errors.Is(err, redis.Nil) {
		return nil, err
	}
	m, err := scanRow(d.pool.QueryRow(ctx, "SELECT "+caCols+" FROM "+d.table+" WHERE ycsb_key = $1", key))
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(m)
	_ = d.rdb.Set(ctx, d.prefix+key, b, caTTL).Err()
	return m, nil
}

func (d *cacheAsideDB) Scan(ctx context.Context, _ string, startKey string, count int, _ []string) ([]map[string][]byte, error) {
	rows, err := d.pool.Query(ctx, "SELECT "+caCols+" FROM "+d.table+" WHERE ycsb_key >= $1 ORDER BY ycsb_key LIMIT $2", startKey, count)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []map[string][]byte
	for rows.Next() {
		m, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const caUpsert = " (ycsb_key, " + caCols + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (ycsb_key) DO UPDATE SET " +
	"field0 = EXCLUDED.field0, field1 = EXCLUDED.field1, field2 = EXCLUDED.field2, field3 = EXCLUDED.field3, field4 = EXCLUDED.field4, " +
	"field5 = EXCLUDED.field5, field6 = EXCLUDED.field6, field7 = EXCLUDED.field7, field8 = EXCLUDED.field8, field9 = EXCLUDED.field9"

func upsertArgs(key string, values map[string][]byte) []any {
	args := make([]any, 11)
	args[0] = key
	for i := range 10 {
		args[i+1] = string(values[fmt.Sprintf("field%d", i)])
	}
	return args
}

func (d *cacheAsideDB) Update(ctx context.Context, t string, key string, values map[string][]byte) error {
	return d.Insert(ctx, t, key, values)
}

func (d *cacheAsideDB) Insert(ctx context.Context, _ string, key string, values map[string][]byte) error {
	if _, err := d.pool.Exec(ctx, "INSERT INTO "+d.table+caUpsert, upsertArgs(key, values)...); err != nil {
		return err
	}
	return d.rdb.Del(ctx, d.prefix+key).Err()
}

func (d *cacheAsideDB) Delete(ctx context.Context, _ string, key string) error {
	if _, err := d.pool.Exec(ctx, "DELETE FROM "+d.table+" WHERE ycsb_key = $1", key); err != nil {
		return err
	}
	return d.rdb.Del(ctx, d.prefix+key).Err()
}

// BatchInsert: one pgx batch of upserts, then one DEL of all the keys.
func (d *cacheAsideDB) BatchInsert(ctx context.Context, _ string, keys []string, values []map[string][]byte) error {
	var b pgx.Batch
	for i, k := range keys {
		b.Queue("INSERT INTO "+d.table+caUpsert, upsertArgs(k, values[i])...)
	}
	if err := d.pool.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	del := make([]string, len(keys))
	for i, k := range keys {
		del[i] = d.prefix + k
	}
	return d.rdb.Del(ctx, del...).Err()
}

func (d *cacheAsideDB) BatchRead(context.Context, string, []string, []string) ([]map[string][]byte, error) {
	return nil, errors.New("not used")
}
func (d *cacheAsideDB) BatchUpdate(context.Context, string, []string, []map[string][]byte) error {
	return errors.New("not used")
}
func (d *cacheAsideDB) BatchDelete(context.Context, string, []string) error {
	return errors.New("not used")
}
