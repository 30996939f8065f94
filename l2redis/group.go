package l2redis

import (
	"context"
	"sync"
	"time"
)

// Group commit of writes' upkeep (Apply on a standalone or Sentinel
// server).
//
// Calls of Apply that would publish the same message (one bus, op and
// schema) and advance the same generation share a group. A call that finds
// its group idle runs its own script at once, as if alone: a lone writer
// waits for nothing. A call that finds a script of its group in flight
// queues; when that script has been answered, everything queued meanwhile
// goes as one script call — every queued call's changes, in the order they
// queued, one generation advance and one message naming every call's ids
// — run by a goroutine of the group's, and each queued call returns that
// call's result. So:
//   - a call returns only once Redis has answered the script that carried
//     its own changes, as before: what its caller does next (a writer
//     refreshing its L1, a Set returning) still follows its upkeep;
//   - a batch is whatever queued while the previous script was in flight:
//     no call waits for a batch to fill;
//   - a call's own bad input (an empty key, a reserved value, an id too
//     long for a message) is refused before it joins a batch, so it fails
//     alone; an error of the shared script (Redis down, a timeout) may have
//     left any part of it done, for every call it carried, and reaches each
//     of them — exactly the calls whose upkeep it concerns;
//   - a queued call whose context ends first returns the context's error:
//     before its batch has left, its changes are withdrawn; after, they may
//     or may not be applied — what Apply's error always means;
//   - the merged message tells the other instances exactly what the
//     separate messages would have (each id's op is the group's op), one
//     sequence number per script as before.
//
// The batch's script runs under a context with the latest deadline of the
// calls it carries (none if one has none) and none's cancellation, so that
// one caller giving up does not fail the others.

// groupKey is what calls must share to share a script call.
type groupKey struct {
	bus       *Bus
	namespace string
	op        Op
	schema    string
}

// applyGroup is one group's state.
type applyGroup struct {
	mu    sync.Mutex
	busy  bool           // a script of the group is in flight
	queue []*queuedApply // calls waiting for the next one
}

// queuedApply is a call waiting in a group's queue.
type queuedApply struct {
	ctx   context.Context
	keys  []string // the changes' keys
	args  []any    // three per change
	ids   []string
	done  chan error // buffered: the batch's result
	taken bool       // its batch has left (guarded by the group's mu)
}

// maxGroups bounds how many groups a Store remembers (one per bus, op,
// schema and generation namespace in use); past it the table starts again.
const maxGroups = 1 << 12

// groupTable finds a key's group.
type groupTable struct {
	mu sync.Mutex
	m  map[groupKey]*applyGroup
}

func (t *groupTable) get(k groupKey) *applyGroup {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.m[k]
	if g == nil {
		if t.m == nil || len(t.m) >= maxGroups {
			// Forgotten groups finish what they hold; a call that finds
			// none starts a new one, and at worst two scripts of one
			// group are in flight at once, as without grouping.
			t.m = map[groupKey]*applyGroup{}
		}
		g = &applyGroup{}
		t.m[k] = g
	}
	return g
}

// applyGrouped runs Apply's script (all and argv as Apply built them) at
// once if k's group is idle, else queues it for the group's next batch.
func (s *Store) applyGrouped(ctx context.Context, bus *Bus, all []string, argv []any, k groupKey, ids []string) error {
	g := s.groups.get(k)
	g.mu.Lock()
	if g.busy {
		q := &queuedApply{ctx: ctx, keys: all[2:], args: argv[applyFixedArgs:], ids: ids, done: make(chan error, 1)}
		g.queue = append(g.queue, q)
		g.mu.Unlock()
		return g.wait(q)
	}
	g.busy = true
	g.mu.Unlock()
	err := s.applyOnce(ctx, all, argv, k, ids)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.busy = false
		g.mu.Unlock()
		return err
	}
	g.mu.Unlock()
	go s.drain(g, k) // the calls that queued meanwhile: this call returns now
	return err
}

// wait is a queued call's wait for its batch's result or its context's end.
func (g *applyGroup) wait(q *queuedApply) error {
	select {
	case err := <-q.done:
		return err
	case <-q.ctx.Done():
	}
	g.mu.Lock()
	if !q.taken { // withdrawn: nothing of it was sent
		for i, o := range g.queue {
			if o == q {
				g.queue = append(g.queue[:i], g.queue[i+1:]...)
				break
			}
		}
	}
	g.mu.Unlock()
	select {
	case err := <-q.done: // answered meanwhile
		return err
	default:
	}
	return classify(q.ctx, q.ctx.Err())
}

// drain runs g's queued calls as batches until none is left, then marks
// g idle.
func (s *Store) drain(g *applyGroup, k groupKey) {
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		for _, q := range batch {
			q.taken = true
		}
		g.mu.Unlock()
		err := s.applyBatch(batch, k)
		for _, q := range batch {
			q.done <- err
		}
	}
}

// applyBatch is one script call carrying every call of batch.
func (s *Store) applyBatch(batch []*queuedApply, k groupKey) error {
	n, nids := 0, 0
	for _, q := range batch {
		n += len(q.keys)
		nids += len(q.ids)
	}
	all := make([]string, 2, 2+n)
	argv := make([]any, applyFixedArgs, applyFixedArgs+3*n)
	ids := make([]string, 0, nids)
	for _, q := range batch {
		all = append(all, q.keys...)
		argv = append(argv, q.args...)
		ids = append(ids, q.ids...)
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	return s.applyOnce(ctx, all, argv, k, ids)
}

// batchContext is the context a batch's script runs under: the first
// call's values, none's cancellation, the latest deadline (none if a call
// has none).
func batchContext(batch []*queuedApply) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, q := range batch {
		d, ok := q.ctx.Deadline()
		if !ok {
			return context.WithoutCancel(batch[0].ctx), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}
