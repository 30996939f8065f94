package changefeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Feed streams one logical replication slot to a Handler. At most one Feed
// holds a slot at a time (PostgreSQL refuses a second START_REPLICATION on
// an active slot); every other Feed on the slot waits and takes over when
// the holder is gone. Create one with [Start]; it runs until [Feed.Close].
type Feed struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	st state
}

// state holds the Feed's figures, readable at any time.
type state struct {
	active       atomic.Bool
	applied      atomic.Uint64 // confirmed (or to be confirmed) position
	serverEnd    atomic.Uint64 // latest WAL end the server reported
	receivedEnd  atomic.Uint64 // end of the last transaction received
	lastApply    atomic.Int64  // nanos from commit to Handler return, last batch
	txns         atomic.Int64
	changes      atomic.Int64
	batches      atomic.Int64
	errors       atomic.Int64
	acquisitions atomic.Int64
	terminated   atomic.Int64
	released     atomic.Int64

	// lagMu orders received and applied transactions for pendingSince, the
	// commit time of the oldest transaction not yet applied (zero when all
	// received is applied).
	lagMu        sync.Mutex
	pendingSince time.Time
}

// received records a chunk handed to the applier.
func (s *state) received(c *chunk) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	if c.end != 0 {
		advance(&s.receivedEnd, uint64(c.end))
	}
	if s.pendingSince.IsZero() {
		s.pendingSince = c.commitTime
	}
}

// appliedUpTo records an applied batch.
func (s *state) appliedUpTo(b *Batch) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	if b.EndLSN != 0 {
		advance(&s.applied, uint64(b.EndLSN))
	}
	if s.applied.Load() >= s.receivedEnd.Load() {
		s.pendingSince = time.Time{}
	} else {
		// The next transaction committed after this batch's last: an
		// upper bound of its age.
		s.pendingSince = b.CommitTime
	}
}

// reset starts a session at the slot's confirmed position.
func (s *state) reset(confirmed LSN) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	s.applied.Store(uint64(confirmed))
	s.receivedEnd.Store(uint64(confirmed))
	s.pendingSince = time.Time{}
}

// Start validates cfg and starts the Feed's goroutine. It needs no server:
// the Feed connects, and reconnects, in the background.
func Start(cfg Config) (*Feed, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{cfg: c, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go f.run()
	return f, nil
}

// Close stops the Feed: a batch being applied is abandoned (it is offered
// again to the next holder), the position of what was applied is reported
// to the server one last time, and the connections are closed. It waits for
// the Feed's goroutines to end. Calling it again does nothing.
func (f *Feed) Close() error {
	f.cancel()
	<-f.done
	return nil
}

// Stats is a snapshot of a Feed's figures.
type Stats struct {
	// Active is set while this Feed holds the slot.
	Active bool
	// AppliedLSN is the position up to which every change has been applied
	// (the slot's confirmed position once reported, within StatusInterval).
	AppliedLSN LSN
	// ServerLSN is the latest end of WAL the server reported.
	ServerLSN LSN
	// LagBytes is ServerLSN - AppliedLSN while Active (it may include WAL of
	// unwatched tables until the next keepalive); 0 otherwise.
	LagBytes int64
	// Lag is how long ago the oldest received transaction that is not yet
	// applied committed (an upper bound, measured from the commit of the
	// transaction applied before it); 0 when all received is applied.
	Lag time.Duration
	// LastApplyLatency is, for the last applied batch, the time from its
	// last transaction's commit to the Handler's return.
	LastApplyLatency time.Duration
	// Txns, Changes and Batches count what was applied; HandlerErrors the
	// Handler calls that failed.
	Txns, Changes, Batches, HandlerErrors int64
	// Acquisitions counts the times this Feed took the slot; Takeovers the
	// times it ended a silent holder's session to do so; Releases the
	// times it gave the slot up because its Handler kept failing for
	// ReleaseAfter.
	Acquisitions, Takeovers, Releases int64
}

// Stats returns a snapshot of the Feed's figures.
func (f *Feed) Stats() Stats {
	s := &f.st
	out := Stats{
		Active:           s.active.Load(),
		AppliedLSN:       LSN(s.applied.Load()),
		ServerLSN:        LSN(s.serverEnd.Load()),
		LastApplyLatency: time.Duration(s.lastApply.Load()),
		Txns:             s.txns.Load(),
		Changes:          s.changes.Load(),
		Batches:          s.batches.Load(),
		HandlerErrors:    s.errors.Load(),
		Acquisitions:     s.acquisitions.Load(),
		Takeovers:        s.terminated.Load(),
		Releases:         s.released.Load(),
	}
	if out.Active {
		if out.ServerLSN > out.AppliedLSN {
			out.LagBytes = int64(out.ServerLSN - out.AppliedLSN)
		}
		s.lagMu.Lock()
		if !s.pendingSince.IsZero() {
			out.Lag = max(time.Since(s.pendingSince), 0)
		}
		s.lagMu.Unlock()
	}
	return out
}

// run acquires the slot and streams it, again and again, until Close.
func (f *Feed) run() {
	defer close(f.done)
	var (
		w    watcher
		last string // the last error logged at Warn; repeats go to Debug
	)
	for f.ctx.Err() == nil {
		err := f.attempt(&w)
		if f.ctx.Err() != nil {
			break
		}
		wait := f.cfg.AcquireInterval
		switch {
		case err == nil || errors.Is(err, errHeld):
			last = ""
		case errors.Is(err, errReleased):
			last = ""
			f.cfg.Logger.Warn("changefeed: gave up the slot: the handler could not apply for ReleaseAfter; another consumer may take it", "slot", f.cfg.Slot, "release_after", f.cfg.ReleaseAfter, "err", err)
			wait = 2 * f.cfg.AcquireInterval // a waiting Feed goes first
		case errors.Is(err, errNotReady) && err.Error() != last:
			last = err.Error()
			f.cfg.Logger.Info("changefeed: not taking the slot while not ready", "slot", f.cfg.Slot, "err", err)
		case err.Error() != last:
			last = err.Error()
			level := slog.LevelWarn
			if errors.Is(err, ErrSlotMissing) { // usual until the first Migrate
				level = slog.LevelInfo
			}
			f.cfg.Logger.Log(f.ctx, level, "changefeed: no replication session; retrying", "slot", f.cfg.Slot, "err", err)
		default:
			f.cfg.Logger.Debug("changefeed: no replication session; retrying", "slot", f.cfg.Slot, "err", err)
		}
		if !sleepCtx(f.ctx, wait) {
			break
		}
	}
	w.close()
}

var (
	// errHeld means another consumer holds the slot.
	errHeld = errors.New("changefeed: slot held by another consumer")
	// errReleased ends a session whose Handler failed for ReleaseAfter.
	errReleased = errors.New("changefeed: released the slot")
	// errNotReady means Config.Ready refused.
	errNotReady = errors.New("changefeed: not ready")
)

// watcher is the ordinary connection that reads the catalog and watches the
// slot's holder.
type watcher struct {
	conn *pgx.Conn
	// holder tracks the active consumer: its backend pid, its last status
	// report time as the server shows it, and when this Feed saw that
	// report time change.
	pid     int32
	reply   time.Time
	changed time.Time
}

func (w *watcher) close() {
	if w.conn != nil {
		_ = w.conn.Close(context.Background())
		w.conn = nil
	}
}

// connect opens a connection from a copy of the Feed's settings.
func (f *Feed) connect(ctx context.Context, replication bool) (*pgconn.PgConn, *pgx.Conn, error) {
	cc := f.cfg.Conn.Copy()
	if f.cfg.BeforeConnect != nil {
		if err := f.cfg.BeforeConnect(ctx, cc); err != nil {
			return nil, nil, fmt.Errorf("changefeed: BeforeConnect: %w", err)
		}
	}
	if !replication {
		conn, err := pgx.ConnectConfig(ctx, cc)
		return nil, conn, err
	}
	pc := cc.Config.Copy()
	if pc.RuntimeParams == nil {
		pc.RuntimeParams = map[string]string{}
	}
	pc.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, pc)
	return conn, nil, err
}

// attempt makes one try: check the slot, end a silent holder's session,
// take the slot and stream it until an error or Close.
func (f *Feed) attempt(w *watcher) error {
	ctx := f.ctx
	if w.conn == nil || w.conn.IsClosed() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, conn, err := f.connect(cctx, false)
		cancel()
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		w.conn = conn
	}
	if f.cfg.Ready != nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f.cfg.Ready(rctx)
		cancel()
		if err != nil {
			return fmt.Errorf("%w: %w", errNotReady, err)
		}
	}
	free, confirmed, err := f.checkHolder(ctx, w)
	if err != nil {
		w.close()
		return err
	}
	if !free {
		return errHeld
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	repl, _, err := f.connect(cctx, true)
	cancel()
	if err != nil {
		return fmt.Errorf("connect for replication: %w", err)
	}
	defer repl.Close(context.Background())
	err = pglogrepl.StartReplication(ctx, repl, f.cfg.Slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + f.cfg.Publication + "'"},
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55006" { // object_in_use: taken meanwhile
			return errHeld
		}
		return fmt.Errorf("start replication on slot %s: %w", f.cfg.Slot, err)
	}
	f.st.acquisitions.Add(1)
	f.st.reset(confirmed)
	f.st.active.Store(true)
	defer f.st.active.Store(false)
	f.cfg.Logger.Info("changefeed: streaming", "slot", f.cfg.Slot, "from", confirmed.String())
	return f.stream(ctx, repl, w)
}

// checkHolder reports whether the slot is free. When another consumer holds
// it and its status reports have not changed for TakeoverAfter, its session
// is ended so that the slot frees up.
func (f *Feed) checkHolder(ctx context.Context, w *watcher) (free bool, confirmed LSN, err error) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var (
		pid    *int32
		reply  *time.Time
		lsn    *string
		plugin *string
	)
	err = w.conn.QueryRow(qctx, `SELECT s.active_pid, r.reply_time, s.confirmed_flush_lsn::text, s.plugin
FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
WHERE s.slot_name = $1 AND s.database = current_database()`, f.cfg.Slot).Scan(&pid, &reply, &lsn, &plugin)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, 0, fmt.Errorf("%w: %q in this database (create it with EnsureSlot)", ErrSlotMissing, f.cfg.Slot)
	}
	if err != nil {
		return false, 0, fmt.Errorf("read slot %s: %w", f.cfg.Slot, err)
	}
	if plugin == nil || *plugin != "pgoutput" {
		return false, 0, fmt.Errorf("%w: slot %s is not a pgoutput logical slot", ErrInvalidConfig, f.cfg.Slot)
	}
	if lsn != nil {
		if confirmed, err = pglogrepl.ParseLSN(*lsn); err != nil {
			return false, 0, fmt.Errorf("slot %s: confirmed position %q: %w", f.cfg.Slot, *lsn, err)
		}
	}
	if pid == nil {
		w.pid = 0
		return true, confirmed, nil
	}
	now := time.Now()
	var r time.Time
	if reply != nil {
		r = *reply
	}
	if w.pid != *pid || !w.reply.Equal(r) {
		w.pid, w.reply, w.changed = *pid, r, now // the holder reported since last time
		return false, confirmed, nil
	}
	if now.Sub(w.changed) < f.cfg.TakeoverAfter {
		return false, confirmed, nil
	}
	// The same holder has been silent for TakeoverAfter: end its session.
	f.cfg.Logger.Warn("changefeed: the slot's consumer stopped reporting; ending its session", "slot", f.cfg.Slot, "pid", *pid, "silent", now.Sub(w.changed).Round(time.Millisecond))
	if _, err := w.conn.Exec(qctx, "SELECT pg_terminate_backend($1)", *pid); err != nil {
		return false, confirmed, fmt.Errorf("end the silent consumer (pid %d) of slot %s: %w", *pid, f.cfg.Slot, err)
	}
	f.st.terminated.Add(1)
	w.pid = 0
	return false, confirmed, nil // taken on the next attempt, once the walsender has exited
}

// keyLookup reads a relation's primary-key columns from the catalog.
func (f *Feed) keyLookup(w *watcher) keyLookup {
	return func(ctx context.Context, oid uint32) ([]string, error) {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		rows, err := w.conn.Query(qctx, `SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = $1 AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)`, oid)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
}

// stream runs one replication session: this goroutine reads, decodes and
// reports status; an applier goroutine calls the Handler.
func (f *Feed) stream(ctx context.Context, repl *pgconn.PgConn, w *watcher) error {
	sctx, stop := context.WithCancel(ctx)
	queue := make(chan *chunk, 64)
	applierDone := make(chan struct{})
	var applyErr error
	go func() {
		defer close(applierDone)
		applyErr = f.apply(sctx, queue)
		stop() // a release ends the session
	}()
	err := f.read(sctx, repl, w, queue)
	stop()
	<-applierDone
	if err == nil {
		err = applyErr
	}
	// A last report of what was applied, so a successor does not redo it.
	if serr := f.sendStatus(repl, false); serr != nil && err == nil && ctx.Err() == nil {
		err = serr
	}
	return err
}

// sendStatus reports the applied position, which also tells the server
// this consumer is alive.
func (f *Feed) sendStatus(repl *pgconn.PgConn, reply bool) error {
	pos := LSN(f.st.applied.Load())
	if err := repl.Conn().SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pos, WALFlushPosition: pos, WALApplyPosition: pos, ReplyRequested: reply,
	})
	if err != nil {
		return fmt.Errorf("send status: %w", err)
	}
	return nil
}

// read is the session's receive loop.
func (f *Feed) read(ctx context.Context, repl *pgconn.PgConn, w *watcher, queue chan<- *chunk) error {
	dec := newDecoder(f.keyLookup(w), f.cfg.MaxBatch, f.cfg.VersionColumn)
	nextStatus := time.Now().Add(f.cfg.StatusInterval)
	nc := repl.Conn()
	defer nc.SetReadDeadline(time.Time{})
	var pending *chunk // decoded, not yet queued
	for {
		if ctx.Err() != nil {
			return nil
		}
		if !time.Now().Before(nextStatus) {
			if err := f.sendStatus(repl, false); err != nil {
				return err
			}
			f.refreshServerEnd(ctx, w)
			nextStatus = time.Now().Add(f.cfg.StatusInterval)
		}
		if pending != nil {
			t := time.NewTimer(time.Until(nextStatus))
			select {
			case queue <- pending:
				pending = nil
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		if err := nc.SetReadDeadline(nextStatus); err != nil {
			return err
		}
		msg, err := repl.ReceiveMessage(context.Background())
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		switch msg := msg.(type) {
		case *pgproto3.CopyData:
			if len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("keepalive: %w", err)
				}
				f.st.serverEnd.Store(max(f.st.serverEnd.Load(), uint64(ka.ServerWALEnd)))
				// Between transactions, with all that was queued applied,
				// nothing before the server's sent position is owed: advance
				// so that an idle feed does not pin WAL.
				if !dec.inTxn && len(dec.changes) == 0 {
					f.st.idle(LSN(ka.ServerWALEnd))
				}
				if ka.ReplyRequested {
					nextStatus = time.Now() // reply at the top of the loop
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("xlogdata: %w", err)
				}
				c, err := dec.decode(ctx, xld.WALData, time.Now())
				if err != nil {
					return err
				}
				if c != nil {
					f.st.received(c)
					pending = c
				}
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("server: %w", pgconn.ErrorResponseToPgError(msg))
		case *pgproto3.CopyDone:
			return errors.New("server ended the replication stream")
		}
	}
}

// refreshServerEnd reads the server's WAL position for LagBytes. (In
// logical replication a data message carries its own record's position,
// not the server's end of WAL, and keepalives come only when idle.)
func (f *Feed) refreshServerEnd(ctx context.Context, w *watcher) {
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var s string
	if err := w.conn.QueryRow(qctx, `SELECT pg_current_wal_lsn()::text`).Scan(&s); err != nil {
		f.cfg.Logger.Debug("changefeed: read the server's WAL position", "err", err)
		return
	}
	if lsn, err := pglogrepl.ParseLSN(s); err == nil {
		advance(&f.st.serverEnd, uint64(lsn))
	}
}

// backlogAge is how old a transaction's commit must be for the applier to
// consider the feed behind, and backlogLinger how long it then waits for
// more transactions before calling the Handler: while catching up, a
// few milliseconds more buy far fewer, larger Handler calls (and leave the
// CPU to the server's WAL decoding); when the feed keeps up, no call waits.
const (
	backlogAge    = 100 * time.Millisecond
	backlogLinger = 5 * time.Millisecond
)

// apply takes queued chunks, joins those already waiting into one batch
// and hands it to the Handler until it succeeds, then records the position.
// It returns nil when ctx ends, and errReleased when the Handler failed
// for ReleaseAfter.
func (f *Feed) apply(ctx context.Context, queue <-chan *chunk) error {
	var b Batch
	for {
		var c *chunk
		select {
		case c = <-queue:
		case <-ctx.Done():
			return nil
		}
		b = Batch{Changes: c.changes, Txns: c.txns, EndLSN: c.end, CommitTime: c.commitTime, Received: c.received}
	join:
		for len(b.Changes) < f.cfg.MaxBatch {
			select {
			case c = <-queue:
				b.Changes = append(b.Changes, c.changes...)
				b.Txns += c.txns
				if c.end != 0 {
					b.EndLSN = c.end
				}
				b.CommitTime = c.commitTime
			default:
				break join
			}
		}
		if len(b.Changes) < f.cfg.MaxBatch && time.Since(b.CommitTime) > backlogAge {
			linger := time.NewTimer(backlogLinger)
		more:
			for len(b.Changes) < f.cfg.MaxBatch {
				select {
				case c = <-queue:
					b.Changes = append(b.Changes, c.changes...)
					b.Txns += c.txns
					if c.end != 0 {
						b.EndLSN = c.end
					}
					b.CommitTime = c.commitTime
				case <-linger.C:
					break more
				case <-ctx.Done():
					linger.Stop()
					return nil
				}
			}
			linger.Stop()
		}
		backoff := f.cfg.MinRetry
		var failingSince time.Time
		for {
			began := time.Now()
			err := f.call(ctx, &b)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			f.st.errors.Add(1)
			if failingSince.IsZero() {
				failingSince = began
			}
			if failed := time.Since(failingSince); failed >= f.cfg.ReleaseAfter {
				f.st.released.Add(1)
				return fmt.Errorf("%w after the handler failed for %v: %w", errReleased, failed.Round(time.Millisecond), err)
			}
			f.cfg.Logger.Warn("changefeed: handler failed; retrying the batch", "slot", f.cfg.Slot, "changes", len(b.Changes), "retry_in", backoff, "err", err)
			if !sleepCtx(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, f.cfg.MaxRetry)
		}
		now := time.Now()
		f.st.batches.Add(1)
		f.st.txns.Add(int64(b.Txns))
		f.st.changes.Add(int64(len(b.Changes)))
		if !b.CommitTime.IsZero() {
			f.st.lastApply.Store(int64(now.Sub(b.CommitTime)))
		}
		f.st.appliedUpTo(&b)
	}
}

// call runs the Handler, turning a panic into an error so that the batch
// is retried rather than the process lost. It sets no deadline: a long
// call (a TRUNCATE's scan of a large key space) is legitimate, and the
// Handler bounds its own calls.
func (f *Feed) call(ctx context.Context, b *Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("changefeed: handler panicked: %v", r)
		}
	}()
	return f.cfg.Handler(ctx, b)
}

// idle advances the position to the server's sent position end when
// everything received has been applied. It runs between transactions:
// nothing before end is owed to the Handler then.
func (s *state) idle(end LSN) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	if s.applied.Load() == s.receivedEnd.Load() {
		advance(&s.applied, uint64(end))
		advance(&s.receivedEnd, uint64(end))
	}
}

// advance raises a to v if v is higher.
func advance(a *atomic.Uint64, v uint64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return pgconn.Timeout(err) || (errors.As(err, &ne) && ne.Timeout())
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
