package strata

import (
	"context"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
)

// Set refreshes left to the background (upkeepBehind: the change feed is
// on). They are not sent one by one: the first one queued waits
// upkeepLinger for others of its schema, and then all those queued go in
// one l2redis Apply — one script call and one message to the other
// instances for all of them — and so on while any are queued. A Set's
// Redis work is the part of its cost PostgreSQL does not set: on an idle
// 2-core VM, a single goroutine's Sets cost 1.52-2.02x a raw pgx upsert
// (median 1.69x) with each refresh sent alone, and 1.26-1.44x (median
// 1.34x) lingering 500 us, six runs each of
// BenchmarkSet/WriteThroughChangeFeed against BenchmarkSet/PgxUpsert.
// What it costs: the other instances see the write up to upkeepLinger
// later than they would, and the writer's reads of the id that miss L1 go
// to PostgreSQL that much longer (inflight.go).

// upkeepLinger is how long the first refresh queued waits for others.
const upkeepLinger = 500 * time.Microsecond

// behindQueue is a schema's Set refreshes left to the background.
type behindQueue struct {
	mu      sync.Mutex
	running bool
	changes []l2redis.Change
	ids     []string
	leaves  []func()
}

// queueRefresh hands a Set's Redis refresh to the background: it is sent
// with the others queued meanwhile, and leave is called once it is done.
func (ds *DataStore) queueRefresh(st *schemaState, id string, change l2redis.Change, leave func()) {
	q := &st.behind
	q.mu.Lock()
	q.changes = append(q.changes, change)
	q.ids = append(q.ids, id)
	q.leaves = append(q.leaves, leave)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start && !ds.life.goUpkeep(func() { ds.drainRefreshes(st, upkeepLinger) }) {
		ds.drainRefreshes(st, 0) // Close has begun
	}
}

// drainRefreshes sends the queued refreshes of st, lingering first, until
// none is left.
func (ds *DataStore) drainRefreshes(st *schemaState, linger time.Duration) {
	q := &st.behind
	for {
		if linger > 0 {
			time.Sleep(linger)
		}
		q.mu.Lock()
		changes, ids, leaves := q.changes, q.ids, q.leaves
		q.changes, q.ids, q.leaves = nil, nil, nil
		if len(changes) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		ds.refreshL2(context.Background(), st, changes, ids)
		for _, leave := range leaves {
			leave()
		}
	}
}
