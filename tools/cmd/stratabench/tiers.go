package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/l1mem"
	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/jackc/pgx/v5"
)

func tierWorkloads(f *fixture) []workload {
	return []workload{
		{"tiers/get-l1-hit", f.getL1},
		{"tiers/get-l2-hit", f.getL2},
		{"tiers/get-l3", f.getL3},
		{"tiers/set-writethrough", f.setWriteThrough},
		{"tiers/setmany-10k", f.setMany},
		{"tiers/writebehind", f.writeBehind},
	}
}

func (f *fixture) ids(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + playerID(i)[1:]
	}
	return ids
}

// redisKey is where Strata keeps id of a schema with the given key prefix.
func (f *fixture) redisKey(schemaPrefix, id string) string {
	return "strata:sb_" + f.runID + "_" + schemaPrefix + ":" + id
}

// readAll reads every id once through Strata, to warm the tiers.
func readAll[T any](ctx context.Context, ds *strata.DataStore, schema string, ids []string) error {
	for _, id := range ids {
		if _, err := strata.GetTyped[T](ctx, ds, schema, id); err != nil {
			return fmt.Errorf("warm %s %s: %w", schema, id, err)
		}
	}
	return nil
}

func (f *fixture) getL1(ctx context.Context) ([]benchkit.Result, error) {
	ids := f.ids("p", f.cfg.rows)
	for range 2 {
		if err := readAll[player](ctx, f.ds, schemaL1, ids); err != nil {
			return nil, err
		}
	}
	raw, err := l1mem.New(&l1mem.Options[string, player]{MaxEntries: 1024})
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	for i, id := range ids {
		raw.Set(id, makePlayer(i))
	}
	n := len(ids)
	before := f.rec.served(schemaL1)
	rows, err := measure("tiers/get-l1-hit", f.cfg.l1,
		benchkit.Subject{Name: "strata GetTyped (L1)", Ours: true, Op: func(i int) error {
			_, err := strata.GetTyped[player](ctx, f.ds, schemaL1, ids[i%n])
			return err
		}},
		benchkit.Subject{Name: "l1mem Get", Op: func(i int) error {
			if _, ok := raw.Get(ids[i%n]); !ok {
				return fmt.Errorf("l1mem lost %s", ids[i%n])
			}
			return nil
		}},
	)
	return noteOurs(rows, "strata GetTyped (L1)", f.rec.servedNote(schemaL1, before)), err
}

func (f *fixture) getL2(ctx context.Context) ([]benchkit.Result, error) {
	ids := f.ids("p", f.cfg.rows)
	if err := readAll[playerNoL1](ctx, f.ds, schemaL2, ids); err != nil {
		return nil, err
	}
	// The L2 fills after those L3 reads run in the background; wait until
	// Redis holds every record.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := f.rdb.Exists(ctx, f.redisKey(schemaL2, ids[len(ids)-1]), f.redisKey(schemaL2, ids[0])).Result()
		if err != nil {
			return nil, err
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.New("Redis was not filled after the warm-up reads")
		}
		time.Sleep(20 * time.Millisecond)
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = f.redisKey(schemaL2, id)
	}
	var mp codec.MsgPack
	n := len(ids)
	before := f.rec.served(schemaL2)
	rows, err := measure("tiers/get-l2-hit", f.cfg.net,
		benchkit.Subject{Name: "strata GetTyped (L2)", Ours: true, Op: func(i int) error {
			_, err := strata.GetTyped[playerNoL1](ctx, f.ds, schemaL2, ids[i%n])
			return err
		}},
		benchkit.Subject{Name: "go-redis GET + msgpack", Op: func(i int) error {
			data, err := f.rdb.Get(ctx, keys[i%n]).Bytes()
			if err != nil {
				return err
			}
			// Strata's fills carry the row version before the value.
			_, data, _ = l2redis.SplitVersion(data)
			var p playerNoL1
			return mp.Unmarshal(data, &p)
		}},
	)
	return noteOurs(rows, "strata GetTyped (L2)", f.rec.servedNote(schemaL2, before)), err
}

func (f *fixture) getL3(ctx context.Context) ([]benchkit.Result, error) {
	ids := f.ids("p", f.cfg.rows)
	n := len(ids)
	q := "SELECT id, name, region, level, score, note FROM " + ident(f.tables["players_nol1"]) + " WHERE id = $1"
	before := f.rec.served(schemaL3)
	rows, err := measure("tiers/get-l3", f.cfg.net,
		benchkit.Subject{Name: "strata GetTyped (L3)", Ours: true, Op: func(i int) error {
			_, err := strata.GetTyped[playerNoL1](ctx, f.l3, schemaL3, ids[i%n])
			return err
		}},
		benchkit.Subject{Name: "pgx QueryRow + Scan", Op: func(i int) error {
			var p playerNoL1
			return f.pg.QueryRow(ctx, q, ids[i%n]).Scan(&p.ID, &p.Name, &p.Region, &p.Level, &p.Score, &p.Note)
		}},
	)
	return noteOurs(rows, "strata GetTyped (L3)", f.rec.servedNote(schemaL3, before)), err
}

const upsertCols = "id, name, region, level, score"

func (f *fixture) upsertSQL(table string) string {
	return "INSERT INTO " + ident(table) + " (" + upsertCols + ") VALUES ($1, $2, $3, $4, $5) " +
		"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region, level = EXCLUDED.level, score = EXCLUDED.score"
}

func (f *fixture) setWriteThrough(ctx context.Context) ([]benchkit.Result, error) {
	ids := f.ids("w", f.cfg.rows)
	n := len(ids)
	upsert := f.upsertSQL(f.tables["raw_writes"])
	rawChannel := f.channel + ":raw"
	var mp codec.MsgPack
	return measure("tiers/set-writethrough", f.cfg.net,
		benchkit.Subject{Name: "strata Set (WriteThrough)", Ours: true, Op: func(i int) error {
			p := makePlayer(i % n)
			p.ID, p.Level = ids[i%n], int64(i)
			return f.ds.Set(ctx, schemaSet, p.ID, &p)
		}},
		benchkit.Subject{Name: "pgx upsert + SET + PUBLISH", Op: func(i int) error {
			p := makePlayer(i % n)
			p.ID, p.Level = ids[i%n], int64(i)
			if _, err := f.pg.Exec(ctx, upsert, p.ID, p.Name, p.Region, p.Level, p.Score); err != nil {
				return err
			}
			data, err := mp.Marshal(&p)
			if err != nil {
				return err
			}
			if err := f.rdb.Set(ctx, "raw:"+f.runID+":"+p.ID, data, redisTTL).Err(); err != nil {
				return err
			}
			return f.rdb.Publish(ctx, rawChannel, p.ID).Err()
		}},
	)
}

// rawBulk writes players the way a program without Strata would in bulk:
// COPY into a temporary table and one upsert from it, in one transaction,
// then every value SET in one Redis pipeline and one PUBLISH naming them.
func (f *fixture) rawBulk(ctx context.Context, ps []player) error {
	var mp codec.MsgPack
	rows := make([][]any, len(ps))
	for i, p := range ps {
		rows[i] = []any{p.ID, p.Name, p.Region, p.Level, p.Score}
	}
	table := ident(f.tables["raw_writes"])
	err := pgx.BeginFunc(ctx, f.pg, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE bulk_in (LIKE "+table+" INCLUDING DEFAULTS) ON COMMIT DROP"); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bulk_in"}, strings.Split(upsertCols, ", "), pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" ("+upsertCols+") SELECT "+upsertCols+" FROM bulk_in "+
			"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region, level = EXCLUDED.level, score = EXCLUDED.score")
		return err
	})
	if err != nil {
		return err
	}
	pipe := f.rdb.Pipeline()
	ids := make([]string, len(ps))
	for i := range ps {
		data, err := mp.Marshal(&ps[i])
		if err != nil {
			return err
		}
		pipe.Set(ctx, "raw:"+f.runID+":"+ps[i].ID, data, redisTTL)
		ids[i] = ps[i].ID
	}
	pipe.Publish(ctx, f.channel+":raw", strings.Join(ids, ","))
	_, err = pipe.Exec(ctx)
	return err
}

func (f *fixture) setMany(ctx context.Context) ([]benchkit.Result, error) {
	n := f.cfg.setManyRows
	ids := f.ids("m", n)
	batch := func(i int) []player {
		ps := make([]player, n)
		for j := range ps {
			ps[j] = makePlayer(j)
			ps[j].ID, ps[j].Level = ids[j], int64(i)
		}
		return ps
	}
	name := fmt.Sprintf("tiers/setmany-%d", n)
	if n%1000 == 0 {
		name = fmt.Sprintf("tiers/setmany-%dk", n/1000)
	}
	return measure(name, f.cfg.batch,
		benchkit.Subject{Name: "strata SetMany", Ours: true, Units: n, Op: func(i int) error {
			ps := batch(i)
			pairs := make(map[string]any, n)
			for j := range ps {
				pairs[ps[j].ID] = &ps[j]
			}
			return f.ds.SetMany(ctx, schemaSet, pairs)
		}},
		benchkit.Subject{Name: "COPY upsert + pipelined SET", Units: n, Op: func(i int) error {
			return f.rawBulk(ctx, batch(i))
		}},
	)
}

// writeBehind measures sustained write-behind throughput: n Sets of
// distinct records (nothing to coalesce) and the FlushDirty that puts the
// last of them in PostgreSQL, per row, against the raw bulk write.
func (f *fixture) writeBehind(ctx context.Context) ([]benchkit.Result, error) {
	n := f.cfg.writeBehindN
	ids := f.ids("b", n)
	return measure("tiers/writebehind", f.cfg.batch,
		benchkit.Subject{Name: "strata Set (WriteBehind) + FlushDirty", Ours: true, Units: n, Op: func(i int) error {
			for j, id := range ids {
				p := makePlayer(j)
				p.ID, p.Level = id, int64(i)
				if err := f.ds.Set(ctx, schemaWB, id, &p); err != nil {
					return err
				}
			}
			return f.ds.FlushDirty(ctx)
		}},
		benchkit.Subject{Name: "COPY upsert + pipelined SET", Units: n, Op: func(i int) error {
			ps := make([]player, n)
			for j, id := range ids {
				ps[j] = makePlayer(j)
				ps[j].ID, ps[j].Level = id, int64(i)
			}
			return f.rawBulk(ctx, ps)
		}},
	)
}

// run measures subjects under plan and compares them.
func measure(name string, plan benchkit.Plan, subjects ...benchkit.Subject) ([]benchkit.Result, error) {
	ms, err := benchkit.Run(plan, subjects)
	if err != nil {
		return nil, err
	}
	return benchkit.Compare(name, ms), nil
}
