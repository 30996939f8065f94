package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/codec/compress"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// docRecord is the record of the codec workloads: a text body of a given
// size. The omit_l1 field keeps it out of L1, so every Get is served by
// Redis.
type docRecord struct {
	ID   string `strata:"primary_key"`
	Body string
	Note string `strata:"omit_l1"`
}

// docBody is about size bytes of text that compresses like log lines or
// JSON documents do (repetitive words and numbers).
func docBody(i, size int) string {
	var b strings.Builder
	for j := 0; b.Len() < size; j++ {
		fmt.Fprintf(&b, "line %d: player %d moved to zone %d and scored %d points. ", j, i, j%17, (i+j)*31%1000)
	}
	return b.String()[:size]
}

var codecSizes = []struct {
	name  string
	bytes int
}{{"1KB", 1 << 10}, {"10KB", 10 << 10}, {"100KB", 100 << 10}}

func codecWorkloads(f *fixture) []workload {
	var ws []workload
	for _, sz := range codecSizes {
		ws = append(ws, workload{"codec/l2-hit-" + sz.name, func(ctx context.Context) ([]benchkit.Result, error) {
			return f.codecL2Hit(ctx, sz.name, sz.bytes)
		}})
	}
	return ws
}

// codecL2Hit: GetTyped served by Redis of records with a size-byte body,
// on three DataStores that differ only in Config.Codec: MessagePack alone
// (the default, the baseline), and wrapped by codec/compress with S2 and
// with Zstandard. The rows give the time of an L2 hit and the bytes one
// record takes in Redis (STRLEN of its value).
func (f *fixture) codecL2Hit(ctx context.Context, sizeName string, size int) ([]benchkit.Result, error) {
	table := "sb_" + f.runID + "_docs_" + strings.ToLower(sizeName)
	f.tables["docs_"+sizeName] = table // dropped by close
	type subject struct {
		name   string
		ours   bool
		codec  codec.Codec
		prefix string
		ds     *strata.DataStore
	}
	s2c, err := compress.New(codec.MsgPack{}, &compress.Options{Algorithm: compress.S2})
	if err != nil {
		return nil, err
	}
	zc, err := compress.New(codec.MsgPack{}, &compress.Options{Algorithm: compress.Zstd})
	if err != nil {
		return nil, err
	}
	subjects := []*subject{
		{name: "strata GetTyped (L2), msgpack", codec: codec.MsgPack{}, prefix: "cx_none"},
		{name: "strata GetTyped (L2), msgpack+s2", ours: true, codec: s2c, prefix: "cx_s2"},
		{name: "strata GetTyped (L2), msgpack+zstd", ours: true, codec: zc, prefix: "cx_zstd"},
	}
	defer func() {
		for _, s := range subjects {
			if s.ds != nil {
				_ = s.ds.Close()
			}
		}
	}()
	const schema = "codec"
	for _, s := range subjects {
		ds, err := strata.NewDataStore(strata.Config{
			PostgresDSN: f.srv.PostgresDSN, RedisAddr: f.srv.RedisAddr, Codec: s.codec,
			InvalidationChannel: f.channel + ":codec",
		})
		if err != nil {
			return nil, err
		}
		s.ds = ds
		if err := ds.Register(strata.Schema{
			Name: schema, Model: &docRecord{}, L3: strata.PostgresPolicy{TableName: table},
			L2: strata.RedisPolicy{KeyPrefix: "sb_" + f.runID + "_" + s.prefix + sizeName},
		}); err != nil {
			return nil, err
		}
	}
	if err := subjects[0].ds.Migrate(ctx); err != nil {
		return nil, err
	}
	n := f.cfg.codecRecords
	ids := make([]string, n)
	rows := make([][]any, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("d%05d", i)
		rows[i] = []any{ids[i], docBody(i, size), ""}
	}
	if _, err := f.pg.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "body", "note"}, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("load %s: %w", table, err)
	}
	var measured []benchkit.Subject
	bytes := make([]float64, len(subjects))
	for k, s := range subjects {
		if err := readAll[docRecord](ctx, s.ds, schema, ids); err != nil {
			return nil, err
		}
		// The fills run in the background, in no particular order: wait
		// until Redis holds every one of them. A key whose fill has not
		// landed yet holds the reader's fill-lease marker, so a key
		// existing is not enough (measured then, the plain 1 KB records
		// "took 32 bytes": the markers).
		keys := make([]string, n)
		for i, id := range ids {
			keys[i] = f.redisKey(s.prefix+sizeName, id)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := f.filled(ctx, keys)
			if err != nil {
				return nil, err
			}
			if c == n {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("Redis holds %d of the %d records 10 s after the warm-up reads", c, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		sum := 0.0
		for _, id := range ids {
			l, err := f.rdb.StrLen(ctx, f.redisKey(s.prefix+sizeName, id)).Result()
			if err != nil {
				return nil, err
			}
			sum += float64(l)
		}
		bytes[k] = sum / float64(n)
		ds := s.ds
		measured = append(measured, benchkit.Subject{Name: s.name, Ours: s.ours, Op: func(i int) error {
			id := ids[i%n]
			d, err := strata.GetTyped[docRecord](ctx, ds, schema, id)
			if err == nil && (d.ID != id || len(d.Body) != size) {
				err = fmt.Errorf("%s read a wrong record for %s", s.name, id)
			}
			return err
		}})
	}
	name := "codec/l2-hit-" + sizeName
	ms, err := benchkit.Run(f.cfg.net, measured)
	if err != nil {
		return nil, err
	}
	for k := range ms {
		ms[k].RedisBytes = benchkit.Float(bytes[k])
	}
	return benchkit.Compare(name, ms), nil
}

// leaseMarker begins the value of a key whose fill lease stands
// (l2redis/lease.go's leaseMagic): every read treats it as absent.
const leaseMarker = "\x00\xffl2redis-lease:"

// filled counts the keys that hold a value, not missing and not a fill-lease
// marker (one pipelined GETRANGE of each key's first bytes).
func (f *fixture) filled(ctx context.Context, keys []string) (int, error) {
	p := f.rdb.Pipeline()
	heads := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		heads[i] = p.GetRange(ctx, k, 0, int64(len(leaseMarker))-1)
	}
	if _, err := p.Exec(ctx); err != nil {
		return 0, err
	}
	c := 0
	for _, h := range heads {
		if v := h.Val(); v != "" && v != leaseMarker {
			c++
		}
	}
	return c, nil
}
