package strata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// Write-behind: a Set of a WriteBehind schema updates L1 at once and records
// the record as dirty; a background flusher writes dirty records to L3 in
// batches (every Config.WriteBehindFlushInterval, or sooner once
// Config.WriteBehindFlushThreshold are dirty), then invalidates L2 and tells
// the other instances (this instance's L1 already holds the value). Repeated Sets of one key before a flush are coalesced: only the
// newest value is written. A failed batch is retried with exponential
// backoff and jitter; an entry that failed Config.WriteBehindMaxRetry times
// is reported once to the schema's OnWriteError hook with an error wrapping
// ErrWriteBehindMaxRetry, and is kept: reads still return it, later flushes
// still try it, FlushDirty forces it. Nothing acknowledged is dropped while
// the process runs; Close flushes and reports what it could not.

// maxBackoff caps the wait between retries of a failing entry.
const maxBackoff = 30 * time.Second

// flushBatch is the most rows one flush writes in one upsert.
const flushBatch = 5000

type dirtyEntry struct {
	rec      reflect.Value // full record (omit_cache fields included)
	clear    []bool        // omit_cache fields the write clears (see Clear); nil for none
	seq      uint64        // bumped by every Set; a flush removes the entry only if unchanged
	attempts int
	due      time.Time // next attempt
	reported bool      // OnWriteError already called
	since    time.Time // when the id became dirty (see WriteBehindBacklog)
	jids     []string  // journal: the stream entries this value stands for
	jnew     string    // journal: the stream id of rec
}

// writeBehind is the dirty set of one schema.
type writeBehind struct {
	mu    sync.Mutex
	dirty map[string]*dirtyEntry
	seq   uint64
	// flushMu is held while a batch is written to L3, so a Delete or a Tx on
	// the same schema cannot be overtaken by an older pending value.
	flushMu sync.Mutex
	j       *journal // nil without Config.WriteBehindJournal; see truth_journal.go
}

func newWriteBehind() *writeBehind { return &writeBehind{dirty: map[string]*dirtyEntry{}} }

func (wb *writeBehind) len() int {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return len(wb.dirty)
}

// pending returns the newest unflushed record of id.
func (wb *writeBehind) pending(id string) (reflect.Value, bool) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	e, ok := wb.dirty[id]
	if !ok {
		return reflect.Value{}, false
	}
	return e.rec, true
}

// pendingWithClear returns the newest unflushed record of id with its clear
// mask.
func (wb *writeBehind) pendingWithClear(id string) (reflect.Value, []bool, bool) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	e, ok := wb.dirty[id]
	if !ok {
		return reflect.Value{}, nil, false
	}
	return e.rec, e.clear, true
}

// dropUpTo forgets id's pending record if no Set enqueued it after seq.
func (wb *writeBehind) dropUpTo(id string, seq uint64) {
	wb.mu.Lock()
	if e, ok := wb.dirty[id]; ok && e.seq <= seq {
		delete(wb.dirty, id)
	}
	wb.mu.Unlock()
}

// current returns the sequence number of the newest enqueue.
func (wb *writeBehind) current() uint64 {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.seq
}

// flusher runs until stop is closed.
func (ds *DataStore) flusher(stop <-chan struct{}) {
	t := time.NewTicker(ds.cfg.WriteBehindFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-ds.flushNow:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for _, st := range ds.writeBehindSchemas() {
			_, _ = ds.flushSchema(ctx, st, false)
		}
		cancel()
	}
}

// dueBatch is up to flushBatch dirty records picked for one flush.
type dueBatch struct {
	ids    []string
	recs   []reflect.Value
	clears [][]bool
	seqs   []uint64 // 0: refused, keep the entry
}

// pickDue picks up to flushBatch dirty records that are due (all of them
// if force) and were not refused during this flush.
func (wb *writeBehind) pickDue(tried map[string]bool, force bool) dueBatch {
	now := time.Now()
	wb.mu.Lock()
	defer wb.mu.Unlock()
	n := min(len(wb.dirty), flushBatch)
	b := dueBatch{ids: make([]string, 0, n), recs: make([]reflect.Value, 0, n), clears: make([][]bool, 0, n), seqs: make([]uint64, 0, n)}
	for id, e := range wb.dirty {
		if len(b.ids) == flushBatch {
			break
		}
		if !tried[id] && (force || !e.due.After(now)) {
			b.ids, b.recs, b.seqs = append(b.ids, id), append(b.recs, e.rec), append(b.seqs, e.seq)
			b.clears = append(b.clears, e.clear)
		}
	}
	return b
}

// flushOneByOne writes b's records one at a time after the server answered
// but refused the batch, to find the rows it refuses (a constraint, a bad
// value) so that they alone wait: each is marked tried and its seq zeroed.
// An error means the flush stops (the server went away, or ctx ended).
func (ds *DataStore) flushOneByOne(ctx context.Context, st *schemaState, b *dueBatch, tried map[string]bool) error {
	for i := range b.ids {
		if ctx.Err() != nil {
			ds.flushFailed(st, b.ids[i:], ctx.Err())
			return ctx.Err()
		}
		if err := ds.flushRecords(ctx, st, b.ids[i:i+1], b.recs[i:i+1], b.clears[i:i+1]); err != nil {
			if retryableL3(err) { // the server went away: stop here
				ds.flushFailed(st, b.ids[i:], err)
				return err
			}
			ds.flushFailed(st, b.ids[i:i+1], err)
			tried[b.ids[i]] = true
			b.seqs[i] = 0 // keep it
		}
	}
	return nil
}

// flushRecords writes one batch: L3 upsert, then L2, then one message.
func (ds *DataStore) flushRecords(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value, clears [][]bool) error {
	// This instance's L1 already holds the value flushed, or a newer
	// pending one: it is kept.
	return st.truth.put(ctx, st, &writeBatch{op: "flush", ids: ids, recs: recs, clears: clears, flush: true})
}

// backoff is the wait before attempt n+1: the flush interval doubled per
// failure, capped at maxBackoff, spread by ±20%.
func (ds *DataStore) backoff(n int) time.Duration {
	d := ds.cfg.WriteBehindFlushInterval << min(n, 16)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// FlushDirty writes every pending write-behind record to L3 now, ignoring
// retry backoff. When PostgreSQL cannot be reached or drops the connection
// (a restart leaves the pool with dead connections), it tries again with
// backoff until ctx ends, or for at most 10 s when ctx has no deadline; it
// stops at once on a failure that another attempt would not cure (a row
// PostgreSQL refuses). It returns an error saying how many records remain if
// it could not write them all.
func (ds *DataStore) FlushDirty(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	if ds.life.closed.Load() {
		return ErrUnavailable
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushRetryBudget)
		defer cancel()
	}
	return ds.flushAll(ctx)
}

// flushRetryBudget bounds the retries of Close's final flush, and of a
// FlushDirty whose context has no deadline.
const flushRetryBudget = 10 * time.Second

// flushAll flushes every write-behind schema, retrying with backoff while
// what is left failed for a connection-level reason and ctx allows.
func (ds *DataStore) flushAll(ctx context.Context) error {
	wait := 20 * time.Millisecond
	reset := false
	for {
		retry, err := ds.flushAllOnce(ctx)
		if err == nil || !retry {
			return err
		}
		if !reset {
			ds.resetL3Pool()
			reset = true
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err // another attempt would not finish in time
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// flushAllOnce makes one pass over the write-behind schemas. retry reports
// whether a schema was left with records for a reason another attempt may
// not meet.
func (ds *DataStore) flushAllOnce(ctx context.Context) (retry bool, err error) {
	var errs []error
	for _, st := range ds.writeBehindSchemas() {
		left, err := ds.flushSchema(ctx, st, true)
		if left > 0 {
			if err == nil {
				err = errors.New("written meanwhile")
			}
			retry = retry || retryableL3(err)
			errs = append(errs, fmt.Errorf("strata: schema %q: %d write-behind records not flushed: %w", st.Name, left, err))
		}
	}
	return retry && ctx.Err() == nil, errors.Join(errs...)
}

// retryableL3 reports whether a write failed for a reason that says nothing
// about the rows, so that the same write may succeed on another attempt: the
// server could not be reached or dropped the connection (class 08, a
// shutdown or restart 57P01–57P03, too many connections, an I/O error, a
// connection pgx knows was never used), or the transaction lost a
// serialization conflict or deadlock.
func retryableL3(err error) bool {
	var pg *pgconn.PgError
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrL3Unavailable), errors.Is(err, l3postgres.ErrUnavailable):
		return true
	case errors.As(err, &pg):
		switch pg.Code {
		case "57P01", "57P02", "57P03", "53300", "40001", "40P01":
			return true
		}
		return strings.HasPrefix(pg.Code, "08")
	case pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && !errors.Is(err, context.DeadlineExceeded)
}
