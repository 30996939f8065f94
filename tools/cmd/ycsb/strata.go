package main

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pingcap/go-ycsb/pkg/ycsb"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/strata"
)

// Row is a YCSB record (fieldcount 10) as a Strata model. Ver is the
// binding's own write number, used only to check reads (see rywCheck).
type Row struct {
	ID     string `strata:"primary_key"`
	Ver    int64
	Field0 string
	Field1 string
	Field2 string
	Field3 string
	Field4 string
	Field5 string
	Field6 string
	Field7 string
	Field8 string
	Field9 string
}

func (r *Row) fields() []*string {
	return []*string{&r.Field0, &r.Field1, &r.Field2, &r.Field3, &r.Field4, &r.Field5, &r.Field6, &r.Field7, &r.Field8, &r.Field9}
}

func (r *Row) set(values map[string][]byte) {
	f := r.fields()
	for k, v := range values {
		if i, err := strconv.Atoi(k[len("field"):]); err == nil && i >= 0 && i < len(f) {
			*f[i] = string(v)
		}
	}
}

// fieldNames are YCSB's field names, made once rather than per read.
var fieldNames = func() (n [10]string) {
	for i := range n {
		n[i] = "field" + strconv.Itoa(i)
	}
	return n
}()

func (r *Row) values() map[string][]byte {
	out := make(map[string][]byte, 10)
	for i, f := range r.fields() {
		out[fieldNames[i]] = []byte(*f)
	}
	return out
}

// rywCheck finds reads older than a write acknowledged before the read
// began. A read returning write v is a violation when some write w of the
// same key started after v was acknowledged and was itself acknowledged
// before the read started: w then surely committed after v, and the read
// should see w or later. Writes that overlap each other, or overlap the
// read, may take effect in either order, so they never count.
type rywCheck struct {
	base       time.Time
	ver        atomic.Int64
	history    sync.Map // key -> *writes: the key's acknowledged writes
	violations atomic.Int64
	checked    atomic.Int64
}

// writes are the acknowledged writes of one key, in acknowledgement order.
type writes struct {
	mu       sync.Mutex
	ver      []int64 // each write's number
	ack      []int64 // when each was acknowledged (ascending)
	maxStart []int64 // the latest start among writes 0..i
}

func (c *rywCheck) now() int64 { return int64(time.Since(c.base)) }

func (c *rywCheck) writesOf(key string) *writes {
	if w, ok := c.history.Load(key); ok {
		return w.(*writes)
	}
	w, _ := c.history.LoadOrStore(key, new(writes))
	return w.(*writes)
}

// begin numbers a write; done records its acknowledgement.
func (c *rywCheck) begin() (ver, start int64) { return c.ver.Add(1), c.now() }

func (c *rywCheck) done(key string, ver, start int64) {
	w := c.writesOf(key)
	w.mu.Lock()
	ack := c.now() // taken under the lock: ack stays ascending
	if n := len(w.maxStart); n > 0 && w.maxStart[n-1] > start {
		start = w.maxStart[n-1]
	}
	w.ver = append(w.ver, ver)
	w.ack = append(w.ack, ack)
	w.maxStart = append(w.maxStart, start)
	w.mu.Unlock()
}

// judge reports whether a read that began at readStart and returned write
// got (0: the loaded value) is a violation; checked is false when got is
// still in flight (it may be the newest).
func (w *writes) judge(readStart, got int64) (violation, checked bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := slices.BinarySearch(w.ack, readStart) // writes 0..n-1 were acknowledged before the read
	if n == 0 {
		return false, true
	}
	front := w.maxStart[n-1]
	ack := int64(-1) // the loaded value (version 0) predates every write
	if got != 0 {
		i := len(w.ver) - 1 // (the newest writes are the likely ones)
		for i >= 0 && w.ver[i] != got {
			i--
		}
		if i < 0 {
			return false, false
		}
		ack = w.ack[i]
	}
	return ack < front, true
}

func (c *rywCheck) read(key string, readStart int64, got int64) {
	c.checked.Add(1)
	if bad, _ := c.writesOf(key).judge(readStart, got); bad {
		c.violations.Add(1)
	}
}

// strataDB is the Strata binding: Read → GetTyped, Update/Insert → Set,
// BatchInsert → SetMany, Scan → Search, Delete → Delete.
type strataDB struct {
	ds     *strata.DataStore
	schema string
	check  *rywCheck
	tiers  *tierCounts
	dsn    string
	slot   string // the change feed's slot and publication (-feed), dropped on Close
}

func newStrataDB(ctx context.Context, env benchEnv, schema string) (*strataDB, error) {
	tiers := new(tierCounts)
	cfg := strata.Config{
		PostgresDSN: env.dsn, RedisAddr: env.redis, InvalidationChannel: "strata:ycsb:" + schema,
		Metrics: tiers,
	}
	if env.feed {
		cfg.ChangeFeed, cfg.ChangeFeedSlot = true, schema // (a table name: a valid slot name)
	}
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := ds.Register(strata.Schema{Name: schema, Model: &Row{}}); err != nil {
		ds.Close()
		return nil, err
	}
	if err := ds.Migrate(ctx); err != nil {
		ds.Close()
		return nil, err
	}
	d := &strataDB{ds: ds, schema: schema, check: &rywCheck{base: time.Now()}, tiers: tiers, dsn: env.dsn}
	if env.feed {
		d.slot = schema
	}
	return d, nil
}

// Close closes the DataStore and drops its change feed's slot and
// publication, if any (a slot left behind would keep WAL forever).
func (d *strataDB) Close() error {
	err := d.ds.Close()
	if d.slot == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, cerr := pgx.Connect(ctx, d.dsn)
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	defer conn.Close(ctx)
	return errors.Join(err, changefeed.DropSlot(ctx, conn, d.slot), changefeed.DropPublication(ctx, conn, d.slot))
}

func (d *strataDB) InitThread(ctx context.Context, _, _ int) context.Context { return ctx }
func (d *strataDB) CleanupThread(context.Context)                            {}

func (d *strataDB) Read(ctx context.Context, _ string, key string, _ []string) (map[string][]byte, error) {
	start := d.check.now()
	r, err := strata.GetTyped[Row](ctx, d.ds, d.schema, key)
	if err != nil {
		return nil, err
	}
	d.check.read(key, start, r.Ver)
	return r.values(), nil
}

func (d *strataDB) Scan(ctx context.Context, _ string, startKey string, count int, _ []string) ([]map[string][]byte, error) {
	var rows []Row
	q := &strata.Query{Where: "id >= $1", Args: []any{startKey}, OrderBy: "id", Limit: count}
	if err := d.ds.Search(ctx, d.schema, q, &rows); err != nil {
		return nil, err
	}
	out := make([]map[string][]byte, len(rows))
	for i := range rows {
		out[i] = rows[i].values()
	}
	return out, nil
}

func (d *strataDB) Update(ctx context.Context, _ string, key string, values map[string][]byte) error {
	if len(values) < 10 {
		return errors.New("ycsb strata binding: updates must write all fields (writeallfields=true)")
	}
	return d.Insert(ctx, "", key, values)
}

func (d *strataDB) Insert(ctx context.Context, _ string, key string, values map[string][]byte) error {
	ver, start := d.check.begin()
	r := Row{ID: key, Ver: ver}
	r.set(values)
	if err := d.ds.Set(ctx, d.schema, key, &r); err != nil {
		return err
	}
	d.check.done(key, ver, start)
	return nil
}

func (d *strataDB) Delete(ctx context.Context, _ string, key string) error {
	return d.ds.Delete(ctx, d.schema, key)
}

func (d *strataDB) BatchInsert(ctx context.Context, _ string, keys []string, values []map[string][]byte) error {
	pairs := make(map[string]any, len(keys))
	vers := make([]int64, len(keys))
	var start int64
	for i, k := range keys {
		vers[i], start = d.check.begin()
		r := &Row{ID: k, Ver: vers[i]}
		r.set(values[i])
		pairs[k] = r
	}
	if err := d.ds.SetMany(ctx, d.schema, pairs); err != nil {
		return err
	}
	for i, k := range keys {
		d.check.done(k, vers[i], start)
	}
	return nil
}

func (d *strataDB) BatchRead(ctx context.Context, t string, keys []string, f []string) ([]map[string][]byte, error) {
	out := make([]map[string][]byte, len(keys))
	for i, k := range keys {
		v, err := d.Read(ctx, t, k, f)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (d *strataDB) BatchUpdate(ctx context.Context, t string, keys []string, values []map[string][]byte) error {
	return d.BatchInsert(ctx, t, keys, values)
}

func (d *strataDB) BatchDelete(ctx context.Context, t string, keys []string) error {
	for _, k := range keys {
		if err := d.Delete(ctx, t, k); err != nil {
			return err
		}
	}
	return nil
}

var _ ycsb.BatchDB = (*strataDB)(nil)
