package chaos

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Kind names an operation of the workload.
type Kind string

// The operations the workload runs.
const (
	KindSet          Kind = "set"
	KindDelete       Kind = "delete"
	KindTx           Kind = "tx"
	KindGet          Kind = "get"
	KindGetMany      Kind = "getmany"
	KindSearch       Kind = "search"
	KindSearchCached Kind = "searchcached"
)

// IsWrite reports whether k changes records.
func (k Kind) IsWrite() bool { return k == KindSet || k == KindDelete || k == KindTx }

// Status is how an operation ended, as its caller saw it.
type Status string

const (
	// StatusOK: the call returned nil (for Get, ErrNotFound too).
	StatusOK Status = "ok"
	// StatusFail: a read that returned an error. (A write that returned an
	// error is never "failed": its reply may have been lost after the
	// server applied it, so it is StatusUnknown.)
	StatusFail Status = "fail"
	// StatusUnknown: a write whose call returned an error, or whose process
	// died before it returned. It may have been applied, at any time after
	// its invocation; its Complete is Infinity.
	StatusUnknown Status = "unknown"
)

// Infinity is the completion time of an operation whose outcome is unknown.
const Infinity = math.MaxInt64

// Write is one key's part of a write: the version written, 0 for a delete.
type Write struct {
	Key string `json:"k"`
	Ver int64  `json:"v"`
}

// Op is one operation of the history. Times are nanoseconds since the run's
// epoch, read from the wall clock that every process of the run shares.
type Op struct {
	ID     int64  `json:"id"`
	Proc   string `json:"proc"`   // the DataStore instance (one incarnation of a process)
	Client int    `json:"client"` // the workload client, unique in the run
	Kind   Kind   `json:"kind"`
	Schema string `json:"schema"` // "wt" or "wb"
	// Writes are the keys a write changes and the versions it writes.
	Writes []Write `json:"writes,omitempty"`
	// Reads are what a read saw, key by key: the version, 0 when absent.
	// A Search or SearchCached of a bucket has an entry for every key of
	// the bucket, 0 for those not in its result.
	Reads    map[string]int64 `json:"reads,omitempty"`
	Invoke   int64            `json:"invoke"`
	Complete int64            `json:"complete"`
	Status   Status           `json:"status"`
	Err      string           `json:"err,omitempty"`
}

// History collects operations from every instance of a run.
type History struct {
	Epoch time.Time // time 0 of the run

	mu      sync.Mutex
	ops     []Op
	pending map[int64]Op
}

// NewHistory starts an empty history whose time 0 is epoch.
func NewHistory(epoch time.Time) *History {
	return &History{Epoch: epoch, pending: map[int64]Op{}}
}

// Now is the current time on the history's clock.
func (h *History) Now() int64 { return time.Since(h.Epoch).Nanoseconds() }

// Invoke records the start of op (whose Invoke is set by the caller).
func (h *History) Invoke(op Op) {
	h.mu.Lock()
	h.pending[op.ID] = op
	h.mu.Unlock()
}

// Complete records the end of the operation id: its status, what it read,
// the error text and its completion time. An unknown status gets Infinity.
func (h *History) Complete(id int64, status Status, reads map[string]int64, errText string, at int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	op, ok := h.pending[id]
	if !ok {
		return
	}
	delete(h.pending, id)
	op.Status, op.Reads, op.Err, op.Complete = status, reads, errText, at
	if status == StatusUnknown {
		op.Complete = Infinity
	}
	h.ops = append(h.ops, op)
}

// Abandon ends every pending operation of proc (a process that died): its
// writes become unknown, its reads are dropped (nobody saw them).
func (h *History) Abandon(proc, why string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for id, op := range h.pending {
		if op.Proc != proc {
			continue
		}
		delete(h.pending, id)
		if op.Kind.IsWrite() {
			op.Status, op.Complete, op.Err = StatusUnknown, Infinity, why
			h.ops = append(h.ops, op)
			n++
		}
	}
	return n
}

// Add appends a complete operation (used by tests and for hand-made
// histories).
func (h *History) Add(op Op) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// Ops returns the completed operations in invocation order.
func (h *History) Ops() []Op {
	h.mu.Lock()
	ops := append([]Op(nil), h.ops...)
	h.mu.Unlock()
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Invoke != ops[j].Invoke {
			return ops[i].Invoke < ops[j].Invoke
		}
		return ops[i].ID < ops[j].ID
	})
	return ops
}

// Pending is the number of operations invoked and not yet completed.
func (h *History) Pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pending)
}
