package strata

import (
	"cmp"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
	"github.com/AndrewDonelson/strata/l2redis"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// schemaState is a registered schema with its defaults resolved and its
// tiers attached.
type schemaState struct {
	Schema // Name, policies and mode resolved

	model   *model.Model
	ptrType reflect.Type // *Model
	flat    bool         // Model copies by assignment (see snapshot.go)
	table   string
	prefix  string
	l1TTL   time.Duration
	l2TTL   time.Duration
	// leaseWait is the resolved L2.LeaseWait (0: do not wait).
	leaseWait time.Duration
	// ahead is the schema's refresh-ahead state (see refresh.go).
	ahead refreshAhead
	// l1Truth is set when no other tier holds the schema: L1 entries then
	// never expire and are never evicted, since they are the only copy.
	l1Truth bool
	// views says which fields each tier holds (see model.Tiers).
	views model.Tiers
	l1    *l1mem.Cache[string, any] // values are *Model snapshots
	// useL1 is false for schemas with omit_l1 fields that have a lower
	// tier: L1 could not return the whole record, so reads skip it.
	useL1 bool
	// l3 is the table handle; nil when the schema has no L3.
	l3 l3Table
	// l3v is l3 reading and returning the row version (see truth_versioned.go);
	// nil without PostgreSQL, on a read replica, or for the test seam's
	// tables. versioned is set once Migrate has installed the version.
	l3v       l3Table
	versioned atomic.Bool
	// key returns the Redis key of a record.
	key func(id string) string
	// writes lets Search fill L1 safely (see writeGuard).
	writes writeGuard
	// inflight holds the ids of this instance's writes to PostgreSQL
	// under way, whose reads bypass the caches (see inflight.go).
	inflight inflight
	// behind queues the Set refreshes left to the background
	// (upkeep_behind.go).
	behind behindQueue
	// replica is set when L3 queries (Search, Count) go to a read replica,
	// which may lag: their rows must not fill any cache.
	replica bool
	// log is Config.Logger (hooks log their panics).
	log Logger
	// wb holds pending write-behind records; nil unless the schema is in
	// WriteBehind mode and has an L3.
	wb *writeBehind
	// truth is where the schema's records live for good (see truth.go).
	truth truth
	// hot is what GetTyped's L1 fast path needs (see gethot.go).
	hot hotRead
}

func (st *schemaState) close() error { return st.l1.Close() }

// Register adds a schema. It must be called once per schema, before any data
// operation that names it.
func (ds *DataStore) Register(s Schema) error {
	if ds.life.closed.Load() {
		return ErrUnavailable
	}
	m, err := model.Parse(s.Model)
	if err != nil {
		return err
	}
	if err := ds.resolveSchema(&s, m); err != nil {
		return err
	}
	st, err := ds.newSchemaState(s, m)
	if err != nil {
		return err
	}
	if err := ds.publishSchema(st); err != nil {
		st.l1.Close()
		return err
	}
	ds.startTruthWork(st)
	return nil
}

// badSchema is the error of a schema Register refuses.
func badSchema(name, format string, args ...any) error {
	return fmt.Errorf("%w: schema %q: %s", ErrInvalidModel, name, fmt.Sprintf(format, args...))
}

// resolveSchema fills the defaults of s (name, table, key prefix, write
// mode, eviction) and checks it against its model m.
func (ds *DataStore) resolveSchema(s *Schema, m *model.Model) error {
	if s.Name == "" {
		s.Name = model.SnakeCase(m.Type.Name())
	}
	if !model.ValidName(s.Name) {
		return badSchema(s.Name, "the name must be 1-63 letters, digits or underscores, not starting with a digit")
	}
	if s.L3.TableName == "" {
		s.L3.TableName = s.Name
	}
	if s.L2.KeyPrefix == "" {
		s.L2.KeyPrefix = s.Name
	}
	if err := checkSchema(s, m); err != nil {
		return err
	}
	if s.WriteMode == 0 {
		s.WriteMode = ds.cfg.DefaultWriteMode
	}
	if s.L1.Eviction == 0 {
		s.L1.Eviction = ds.cfg.L1Pool.Eviction
	}
	return nil
}

// checkSchema checks the names, bounds and columns s gives.
func checkSchema(s *Schema, m *model.Model) error {
	bad := func(format string, args ...any) error { return badSchema(s.Name, format, args...) }
	switch {
	case !model.ValidName(s.L3.TableName):
		return bad("L3.TableName %q is not a valid identifier", s.L3.TableName)
	case !model.ValidName(s.L2.KeyPrefix):
		return bad("L2.KeyPrefix %q must be letters, digits or underscores", s.L2.KeyPrefix)
	case s.L1.TTL < 0 || s.L2.TTL < 0:
		return bad("TTLs must not be negative")
	case s.L1.MaxEntries < 0:
		return bad("L1.MaxEntries must not be negative")
	case s.L1.Eviction < 0 || s.L1.Eviction > EvictTinyLFU:
		return bad("unknown L1.Eviction %d", int(s.L1.Eviction))
	case s.WriteMode < 0 || s.WriteMode > WriteBehind:
		return bad("unknown WriteMode %d", int(s.WriteMode))
	case !(s.RefreshAhead >= 0 && s.RefreshAhead < 1): // NaN too
		return bad("RefreshAhead %v must be a fraction of the TTL, at least 0 and below 1", s.RefreshAhead)
	}
	if s.L3.PartitionBy != "" {
		if _, ok := m.ByColumn[s.L3.PartitionBy]; !ok {
			return bad("L3.PartitionBy %q is not a column", s.L3.PartitionBy)
		}
	}
	for i, ix := range s.Indexes {
		if len(ix.Fields) == 0 {
			return bad("Indexes[%d] has no fields", i)
		}
		for _, c := range ix.Fields {
			if _, ok := m.ByColumn[c]; !ok {
				return bad("Indexes[%d] names %q, which is not a column", i, c)
			}
		}
		if ix.Name != "" && !model.ValidName(ix.Name) {
			return bad("Indexes[%d].Name %q is not a valid identifier", i, ix.Name)
		}
	}
	return nil
}

// newSchemaState resolves a checked schema's settings and attaches its
// tiers: the PostgreSQL table, the write-behind queue and its L1.
func (ds *DataStore) newSchemaState(s Schema, m *model.Model) (*schemaState, error) {
	st := &schemaState{
		Schema:  s,
		model:   m,
		ptrType: reflect.PointerTo(m.Type),
		flat:    model.IsFlat(m.Type),
		table:   s.L3.TableName,
		prefix:  s.L2.KeyPrefix,
		l1TTL:   cmp.Or(s.L1.TTL, ds.cfg.DefaultL1TTL),
		l2TTL:   cmp.Or(s.L2.TTL, ds.cfg.DefaultL2TTL),
		l1Truth: ds.sourceOfTruthIsL1(s),
		log:     ds.cfg.Logger,
	}
	switch st.leaseWait = s.L2.LeaseWait; {
	case st.leaseWait == 0:
		st.leaseWait = DefaultLeaseWait
	case st.leaseWait < 0:
		st.leaseWait = 0
	}
	if err := ds.attachTruth(st); err != nil {
		return nil, err
	}
	st.ahead = ds.newRefreshAhead(st)
	st.hot = ds.newHotRead(st)
	prefix := st.prefix
	st.key = func(id string) string { return l2redis.Key(prefix, id) }
	var err error
	if st.l1, err = l1mem.New(ds.l1Options(st)); err != nil {
		return nil, badSchema(s.Name, "L1: %v", err)
	}
	return st, nil
}

// l1Options are the options of the schema's L1: the schema's bounds, else
// Config.L1Pool's; none when L1 is the only copy.
func (ds *DataStore) l1Options(st *schemaState) *l1mem.Options[string, any] {
	opts := &l1mem.Options[string, any]{
		MaxEntries: cmp.Or(st.L1.MaxEntries, ds.cfg.L1Pool.MaxEntries),
		Eviction:   st.L1.Eviction.l1mem(),
		DefaultTTL: st.l1TTL,
		Clock:      ds.cfg.Clock,
	}
	if !st.truth.l1Fills() { // L1 is the only copy
		opts.MaxEntries, opts.DefaultTTL = 0, 0
	}
	if ds.negativeCaching() {
		opts.NegativeTTL = ds.cfg.NegativeCacheTTL // a missing id, remembered
	}
	return opts
}

// publishSchema adds st to the registered schemas, refusing a duplicate
// name or a key prefix another schema's Redis keys use.
func (ds *DataStore) publishSchema(st *schemaState) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	old := *ds.schemas.Load()
	if _, dup := old[st.Name]; dup {
		return fmt.Errorf("%w: %q", ErrSchemaDuplicate, st.Name)
	}
	for _, o := range old {
		if o.prefix == st.prefix && ds.sharesCaches() {
			return badSchema(st.Name, "L2.KeyPrefix %q is already used by schema %q: their Redis keys would collide", st.prefix, o.Name)
		}
	}
	next := make(map[string]*schemaState, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[st.Name] = st
	ds.schemas.Store(&next)
	return nil
}
