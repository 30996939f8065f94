package strata

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Tracer starts one span per DataStore operation (not one per tier: a span
// per Redis or PostgreSQL round trip costs more than an L1 hit). Set it in
// Config.Tracer; the module github.com/AndrewDonelson/strata/strata/otel
// implements it with OpenTelemetry, and the core depends on nothing.
//
// Start is called when an operation begins, with the caller's context, the
// operation (OpGet, OpSet, ...) and the schema. The context it returns is
// the one the operation runs under, so spans that instrumented clients
// (redisotel, otelpgx) start become the operation's children. The function
// it returns is called once, when the operation returns, with what the
// operation did; it may be nil. Start must be safe for concurrent use.
//
// A nil Tracer costs one nil check per call: no allocation, no context
// value.
type Tracer interface {
	Start(ctx context.Context, op, schema string) (context.Context, func(OpResult))
}

// The operations a Tracer sees, one per public method (the typed forms
// share their method's name: GetTyped is OpGet).
const (
	OpGet           = "get"
	OpGetMany       = "get_many"
	OpExists        = "exists"
	OpSet           = "set"
	OpSetMany       = "set_many"
	OpDelete        = "delete"
	OpSearch        = "search"
	OpSearchCached  = "search_cached"
	OpCount         = "count"
	OpTx            = "tx"
	OpInvalidate    = "invalidate"
	OpInvalidateAll = "invalidate_all"
	OpWarmCache     = "warm_cache"
)

// OpResult is what one operation did, passed to the function Tracer.Start
// returned.
type OpResult struct {
	// Tier is the tier that served a read by id (metrics.TierL1, TierL2 or
	// TierL3), or "" when none did: a write, a multi-row read, a record
	// found nowhere, an error.
	Tier string
	// Hit is true when a cache tier (L1 or L2) served the read.
	Hit bool
	// LeaseWait is how long the read waited for another reader's fill of
	// the key in Redis (the fill lease was busy); 0 when it did not wait.
	LeaseWait time.Duration
	// Rows is the number of records read or written: 1 or 0 for a call on
	// one id, the records returned by GetMany, Search and SearchCached,
	// the records given to SetMany, the operations of a Tx.
	Rows int
	// Err is what the operation returned; ErrorClass names its kind.
	Err error
}

// opSpan is an operation's span, the zero value when there is no Tracer.
type opSpan struct {
	rec *opRecord
	end func(OpResult)
}

// opRecord collects what the code below an operation notes for its span.
// A shared L1 load may still note after the caller returned, hence the
// lock.
type opRecord struct {
	mu        sync.Mutex
	tier      string
	hit       bool
	leaseWait time.Duration
}

type opRecordKey struct{}

// startOp starts op's span when a Tracer is set; with none it returns ctx
// and the zero opSpan at the cost of one nil check.
func (ds *DataStore) startOp(ctx context.Context, op, schema string) (c context.Context, sp opSpan) {
	c = ctx
	if ds.cfg.Tracer != nil {
		c, sp = ds.startSpan(ctx, op, schema)
	}
	return c, sp
}

func (ds *DataStore) startSpan(ctx context.Context, op, schema string) (context.Context, opSpan) {
	if ctx == nil { // the operation returns ErrNilContext
		return ctx, opSpan{}
	}
	rec := &opRecord{}
	sctx, end := ds.cfg.Tracer.Start(context.WithValue(ctx, opRecordKey{}, rec), op, schema)
	if sctx == nil { // a Tracer that forgot to return a context
		sctx = context.WithValue(ctx, opRecordKey{}, rec)
	}
	if end == nil {
		return sctx, opSpan{}
	}
	return sctx, opSpan{rec: rec, end: end}
}

// done ends the span with err, which it returns; rows is the records the
// operation read or wrote, or -1 to count 1 for success and 0 otherwise.
func (s opSpan) done(err error, rows int) error {
	if s.end != nil {
		s.finish(err, rows)
	}
	return err
}

func (s opSpan) finish(err error, rows int) {
	if rows < 0 {
		rows = 0
		if err == nil {
			rows = 1
		}
	}
	s.rec.mu.Lock()
	r := OpResult{Tier: s.rec.tier, Hit: s.rec.hit, LeaseWait: s.rec.leaseWait, Rows: rows, Err: err}
	s.rec.mu.Unlock()
	s.end(r)
}

// active reports whether the span records anything (a Tracer is set).
func (s opSpan) active() bool { return s.end != nil }

// recordOf returns the opRecord of ctx's operation, or nil.
func recordOf(ctx context.Context) *opRecord {
	rec, _ := ctx.Value(opRecordKey{}).(*opRecord)
	return rec
}

// served notes, when tracing, that tier served the read of ctx's
// operation (the caller reports the hit to Config.Metrics).
func (ds *DataStore) served(ctx context.Context, tier string) {
	if ds.cfg.Tracer != nil {
		noteServed(ctx, tier)
	}
}

// noteServed notes the tier that served ctx's operation.
func noteServed(ctx context.Context, tier string) {
	if rec := recordOf(ctx); rec != nil {
		rec.mu.Lock()
		rec.tier, rec.hit = tier, tier != metrics.TierL3
		rec.mu.Unlock()
	}
}

// noteLeaseWait adds d to ctx's operation's lease wait.
func noteLeaseWait(ctx context.Context, d time.Duration) {
	if rec := recordOf(ctx); rec != nil {
		rec.mu.Lock()
		rec.leaseWait += d
		rec.mu.Unlock()
	}
}

// lenOf returns the length of the slice or map v points to (Search's and
// GetMany's destinations), or 0. Called only when tracing.
func lenOf(v any) int {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len()
	}
	return 0
}

// boolRows is 1 for true: Exists's Rows.
func boolRows(ok bool) int {
	if ok {
		return 1
	}
	return 0
}

// getTypedTraced is GetTyped with a Tracer set: the untraced path stays as
// it was, with one nil check.
func getTypedTraced[T any](ctx context.Context, ds *DataStore, schema, id string) (T, error) {
	ds.stats.gets.Add(1)
	ctx, sp := ds.startSpan(ctx, OpGet, schema)
	p, st, err := getTyped[T](ctx, ds, schema, id)
	if err != nil {
		var zero T
		return zero, sp.done(ds.count(err), -1)
	}
	out := deepCopied(p)
	if st.Hooks.AfterGet != nil {
		out, err = afterGetTyped(ctx, st, out)
		return out, sp.done(ds.count(err), -1) // with the value read, even if the hook panicked
	}
	return out, sp.done(nil, -1)
}
