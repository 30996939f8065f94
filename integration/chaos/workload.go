package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

// Recorder receives the operations of a workload: the History itself in
// the parent process, a pipe to it in a child.
type Recorder interface {
	Now() int64
	Invoke(op Op)
	Complete(id int64, status Status, reads map[string]int64, errText string, at int64)
}

// Role is what a workload client does.
type Role string

const (
	// RoleMixed writes shared and (its instance's) write-behind keys and
	// reads everything.
	RoleMixed Role = "mixed"
	// RoleSingle writes and reads the single-writer keys only.
	RoleSingle Role = "single"
)

// ClientSpec is one workload client.
type ClientSpec struct {
	ID      int      `json:"id"` // unique in the run
	Role    Role     `json:"role"`
	WBOwned []string `json:"wb_owned,omitempty"` // write-behind keys this instance owns
}

// WorkloadSpec is one instance's part of the workload.
type WorkloadSpec struct {
	Proc      string        `json:"proc"`
	ProcNum   int64         `json:"proc_num"` // unique in the run: op ids and versions are ProcNum<<32 | seq
	Seed      uint64        `json:"seed"`
	Keys      Keyspace      `json:"keys"`
	Clients   []ClientSpec  `json:"clients"`
	Think     time.Duration `json:"think"`      // each client waits up to this long between operations
	OpTimeout time.Duration `json:"op_timeout"` // each call's deadline
}

// RunWorkload runs spec's clients against ds until ctx ends, recording
// every operation. An operation in flight when ctx ends still completes
// (under its own deadline).
func RunWorkload(ctx context.Context, ds *strata.DataStore, rec Recorder, spec WorkloadSpec) {
	var seq atomic.Int64
	var wg sync.WaitGroup
	for _, c := range spec.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{ds: ds, rec: rec, spec: spec, c: c, seq: &seq,
				rng: rand.New(rand.NewPCG(spec.Seed, uint64(c.ID)))}
			for ctx.Err() == nil {
				w.step()
				if spec.Think > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(time.Duration(w.rng.Int64N(int64(spec.Think)))):
					}
				}
			}
		}()
	}
	wg.Wait()
}

type worker struct {
	ds   *strata.DataStore
	rec  Recorder
	spec WorkloadSpec
	c    ClientSpec
	seq  *atomic.Int64
	rng  *rand.Rand
}

func (w *worker) nextID() int64 { return w.spec.ProcNum<<32 | w.seq.Add(1) }

func (w *worker) pick(keys []string) string { return keys[w.rng.IntN(len(keys))] }

// pickN picks n distinct keys.
func (w *worker) pickN(keys []string, n int) []string {
	n = min(n, len(keys))
	idx := w.rng.Perm(len(keys))[:n]
	out := make([]string, n)
	for i, j := range idx {
		out[i] = keys[j]
	}
	return out
}

func (w *worker) record(key string, ver int64) *Rec {
	return &Rec{ID: key, Bucket: w.spec.Keys.Bucket(key), Ver: ver, Proc: w.spec.Proc, Pad: "chaos-payload-0123456789"}
}

// step runs one operation chosen at random for the client's role.
func (w *worker) step() {
	ks := w.spec.Keys
	x := w.rng.Float64()
	if w.c.Role == RoleSingle {
		switch {
		case x < 0.30:
			w.set(SchemaWT, w.pick(ks.Single))
		case x < 0.36:
			w.del(w.pick(ks.Single))
		case x < 0.76:
			w.get(SchemaWT, w.pick(ks.Single))
		case x < 0.90:
			w.getMany(SchemaWT, w.pickN(ks.Single, 2+w.rng.IntN(3)))
		case x < 0.95:
			w.search(KindSearch, SchemaWT, 4+int64(w.rng.IntN(2)))
		default:
			w.search(KindSearchCached, SchemaWT, 4+int64(w.rng.IntN(2)))
		}
		return
	}
	readKey := func() (string, string) {
		y := w.rng.Float64()
		switch {
		case y < 0.6:
			return SchemaWT, w.pick(ks.Shared)
		case y < 0.75:
			return SchemaWT, w.pick(ks.Single)
		default:
			return SchemaWB, w.pick(ks.WB)
		}
	}
	switch {
	case x < 0.20:
		w.set(SchemaWT, w.pick(ks.Shared))
	case x < 0.24:
		w.del(w.pick(ks.Shared))
	case x < 0.30:
		w.tx()
	case x < 0.40:
		if len(w.c.WBOwned) > 0 {
			w.set(SchemaWB, w.pick(w.c.WBOwned))
		} else {
			w.set(SchemaWT, w.pick(ks.Shared))
		}
	case x < 0.68:
		w.get(readKey())
	case x < 0.80:
		if w.rng.Float64() < 0.3 {
			w.getMany(SchemaWB, w.pickN(ks.WB, 2+w.rng.IntN(5)))
		} else {
			w.getMany(SchemaWT, w.pickN(ks.Keys(SchemaWT), 2+w.rng.IntN(5)))
		}
	default:
		kind := KindSearch
		if x >= 0.90 {
			kind = KindSearchCached
		}
		if w.rng.Float64() < 0.3 {
			w.search(kind, SchemaWB, int64(w.rng.IntN(2)))
		} else {
			w.search(kind, SchemaWT, int64(w.rng.IntN(6)))
		}
	}
}

// do records one operation around call; id is from nextID, and the
// versions a write writes are derived from it (id<<4 | i), so they are
// unique in the run.
func (w *worker) do(id int64, kind Kind, schema string, writes []Write, call func(ctx context.Context) (map[string]int64, error)) {
	w.rec.Invoke(Op{ID: id, Proc: w.spec.Proc, Client: w.c.ID, Kind: kind, Schema: schema, Writes: writes, Invoke: w.rec.Now()})
	ctx, cancel := context.WithTimeout(context.Background(), w.spec.OpTimeout)
	reads, err := call(ctx)
	cancel()
	at := w.rec.Now()
	status, text := StatusOK, ""
	if err != nil {
		text = err.Error()
		status = StatusFail
		if kind.IsWrite() {
			status = StatusUnknown // the reply may be what was lost
		}
		reads = nil
	}
	w.rec.Complete(id, status, reads, text, at)
}

func (w *worker) write(id int64, kind Kind, schema string, writes []Write, call func(ctx context.Context) error) {
	w.do(id, kind, schema, writes, func(ctx context.Context) (map[string]int64, error) { return nil, call(ctx) })
}

func (w *worker) read(kind Kind, schema string, call func(ctx context.Context) (map[string]int64, error)) {
	w.do(w.nextID(), kind, schema, nil, call)
}

func (w *worker) set(schema, key string) { w.setVer(schema, key) }

// setVer sets key and returns the version it wrote.
func (w *worker) setVer(schema, key string) int64 {
	id := w.nextID()
	ver := id << 4
	w.write(id, KindSet, schema, []Write{{Key: key, Ver: ver}}, func(ctx context.Context) error {
		return w.ds.Set(ctx, schema, key, w.record(key, ver))
	})
	return ver
}

func (w *worker) del(key string) {
	w.write(w.nextID(), KindDelete, SchemaWT, []Write{{Key: key}}, func(ctx context.Context) error {
		return w.ds.Delete(ctx, SchemaWT, key)
	})
}

// tx sets one shared key and sets or deletes another, atomically.
func (w *worker) tx() {
	keys := w.pickN(w.spec.Keys.Shared, 2)
	id := w.nextID()
	writes := []Write{{Key: keys[0], Ver: id << 4}, {Key: keys[1], Ver: id<<4 | 1}}
	if w.rng.IntN(2) == 0 {
		writes[1].Ver = 0
	}
	w.write(id, KindTx, SchemaWT, writes, func(ctx context.Context) error {
		tx := w.ds.Tx(ctx).Set(SchemaWT, keys[0], w.record(keys[0], writes[0].Ver))
		if writes[1].Ver == 0 {
			tx = tx.Delete(SchemaWT, keys[1])
		} else {
			tx = tx.Set(SchemaWT, keys[1], w.record(keys[1], writes[1].Ver))
		}
		return tx.Commit()
	})
}

func (w *worker) get(schema, key string) {
	w.read(KindGet, schema, func(ctx context.Context) (map[string]int64, error) {
		r, err := strata.GetTyped[Rec](ctx, w.ds, schema, key)
		if errors.Is(err, strata.ErrNotFound) {
			return map[string]int64{key: 0}, nil
		}
		if err != nil {
			return nil, err
		}
		if r.ID != key {
			return nil, fmt.Errorf("chaos: Get(%q) returned the record of %q", key, r.ID)
		}
		return map[string]int64{key: r.Ver}, nil
	})
}

func (w *worker) getMany(schema string, keys []string) {
	w.read(KindGetMany, schema, func(ctx context.Context) (map[string]int64, error) {
		m, err := strata.GetManyTyped[Rec](ctx, w.ds, schema, keys)
		if err != nil {
			return nil, err
		}
		out := make(map[string]int64, len(keys))
		for _, k := range keys {
			out[k] = m[k].Ver // 0 when absent
		}
		return out, nil
	})
}

func (w *worker) search(kind Kind, schema string, bucket int64) {
	w.read(kind, schema, func(ctx context.Context) (map[string]int64, error) {
		return searchBucket(ctx, w.ds, w.spec.Keys, kind, schema, bucket)
	})
}

// searchBucket runs Search or SearchCached over one bucket and returns every
// key of the bucket with the version found, 0 for those not returned.
func searchBucket(ctx context.Context, ds *strata.DataStore, ks Keyspace, kind Kind, schema string, bucket int64) (map[string]int64, error) {
	q := strata.Q().Where("bucket = $1", bucket).Limit(500).Build()
	var rows []Rec
	var err error
	if kind == KindSearchCached {
		err = ds.SearchCached(ctx, schema, &q, &rows)
	} else {
		err = ds.Search(ctx, schema, &q, &rows)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, k := range ks.BucketKeys(schema, bucket) {
		out[k] = 0
	}
	for _, r := range rows {
		if r.Bucket != bucket {
			return nil, fmt.Errorf("chaos: %s of bucket %d returned %q of bucket %d", kind, bucket, r.ID, r.Bucket)
		}
		out[r.ID] = r.Ver
	}
	return out, nil
}
