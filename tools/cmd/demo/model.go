package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Player is the demo's model: an id, a searchable region and score, and an
// email that PostgreSQL only ever sees encrypted.
type Player struct {
	ID        string    `strata:"primary_key"`
	Name      string    ``
	Email     string    `strata:"encrypted"`
	Region    string    `strata:"index"`
	Level     int64     ``
	Score     float64   `strata:"index"`
	UpdatedAt time.Time `strata:"auto_now"`
}

var regions = []string{"eu-west", "us-east", "us-west", "ap-south", "sa-east"}

func playerID(i int) string { return fmt.Sprintf("player-%05d", i) }

// newPlayer builds the i-th player deterministically.
func newPlayer(i int) *Player {
	return &Player{
		ID:     playerID(i),
		Name:   fmt.Sprintf("Player %d", i),
		Email:  fmt.Sprintf("player%d@example.com", i),
		Region: regions[i%len(regions)],
		Level:  int64(1 + i%60),
		Score:  float64((i*7919)%100_000) / 10,
	}
}

// tierRecorder is a metrics.MetricsRecorder that remembers which tier
// served the last read of one schema, so that a single reading goroutine
// can attribute each read's latency to its tier, and counts PostgreSQL
// queries and flushes.
type tierRecorder struct {
	schema    string
	last      atomic.Value // string: tier of the last Hit
	l3Reads   atomic.Int64
	l3Writes  atomic.Int64
	mu        sync.Mutex
	latencies map[string]int64 // "tier/op" → count, for the write-behind step
	others    []*tierRecorder  // recorders of other schemas, see forward
}

var _ metrics.MetricsRecorder = (*tierRecorder)(nil)

func newTierRecorder(schema string) *tierRecorder {
	r := &tierRecorder{schema: schema, latencies: map[string]int64{}}
	r.last.Store("")
	return r
}

// forward sends the events of other's schema to other as well, so that one
// DataStore can report per schema to several recorders.
func (r *tierRecorder) forward(other *tierRecorder) {
	r.mu.Lock()
	r.others = append(r.others, other)
	r.mu.Unlock()
}

func (r *tierRecorder) other(schema string) *tierRecorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.others {
		if o.schema == schema {
			return o
		}
	}
	return nil
}

func (r *tierRecorder) Hit(schema, tier string) {
	if o := r.other(schema); o != nil {
		o.Hit(schema, tier)
	}
	if schema == r.schema {
		r.last.Store(tier)
	}
}

func (r *tierRecorder) Miss(string, string) {}

func (r *tierRecorder) Latency(schema, tier, op string, d time.Duration) {
	if o := r.other(schema); o != nil {
		o.Latency(schema, tier, op, d)
	}
	if schema != r.schema {
		return
	}
	if tier == metrics.TierL3 {
		if op == "get" {
			r.l3Reads.Add(1)
		} else {
			r.l3Writes.Add(1)
		}
	}
	r.mu.Lock()
	r.latencies[tier+"/"+op]++
	r.mu.Unlock()
}

func (r *tierRecorder) Error(string, string, string) {}

// take returns the tier of the last read and forgets it.
func (r *tierRecorder) take() string {
	t, _ := r.last.Swap("").(string)
	return t
}

// ops returns how many operations of tier/op were recorded.
func (r *tierRecorder) ops(tier, op string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latencies[tier+"/"+op]
}

// quietLogger keeps Strata's log lines out of the report; warnings and
// errors are counted and the first few shown at the end.
type quietLogger struct {
	mu    sync.Mutex
	lines []string
	count int
}

func (l *quietLogger) keep(level, msg string, kv []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if len(l.lines) < 5 {
		l.lines = append(l.lines, fmt.Sprintf("%s %s %v", level, msg, kv))
	}
}

func (l *quietLogger) Info(string, ...any)         {}
func (l *quietLogger) Debug(string, ...any)        {}
func (l *quietLogger) Warn(msg string, kv ...any)  { l.keep("WARN", msg, kv) }
func (l *quietLogger) Error(msg string, kv ...any) { l.keep("ERROR", msg, kv) }

// report returns how many warnings and errors were logged, and the first few.
func (l *quietLogger) report() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count, append([]string(nil), l.lines...)
}
