package chaos

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

// Rec is the record every schema of the suite stores. Ver identifies the
// write that stored it (unique in a run); Bucket is fixed per key, so a
// Search of a bucket has a known set of keys.
type Rec struct {
	ID     string `strata:"primary_key"`
	Bucket int64  `strata:"index"`
	Ver    int64
	Proc   string
	Pad    string
}

// Schema names of the suite.
const (
	SchemaWT = "wt" // WriteThrough
	SchemaWB = "wb" // WriteBehind
)

// Keyspace is the run's ids: shared WriteThrough keys every writer writes,
// single-writer keys only instance "l" writes (its history is checked for
// linearizability), and write-behind keys, each written by one owner.
type Keyspace struct {
	Shared []string `json:"shared"`
	Single []string `json:"single"`
	WB     []string `json:"wb"`
}

// NewKeyspace makes n shared, m single-writer and w write-behind keys.
func NewKeyspace(n, m, w int) Keyspace {
	var ks Keyspace
	for i := range n {
		ks.Shared = append(ks.Shared, fmt.Sprintf("k%02d", i))
	}
	for i := range m {
		ks.Single = append(ks.Single, fmt.Sprintf("s%02d", i))
	}
	for i := range w {
		ks.WB = append(ks.WB, fmt.Sprintf("w%02d", i))
	}
	return ks
}

// Bucket is the fixed bucket of a key: shared keys 0–3, single-writer keys
// 4–5, write-behind keys 0–1 (in their own table).
func (ks Keyspace) Bucket(key string) int64 {
	var n int
	fmt.Sscanf(key[1:], "%d", &n)
	switch key[0] {
	case 'k':
		return int64(n % 4)
	case 's':
		return int64(4 + n%2)
	default:
		return int64(n % 2)
	}
}

// Buckets lists the buckets of a schema.
func (ks Keyspace) Buckets(schema string) []int64 {
	if schema == SchemaWB {
		return []int64{0, 1}
	}
	return []int64{0, 1, 2, 3, 4, 5}
}

// Keys lists every key of a schema.
func (ks Keyspace) Keys(schema string) []string {
	if schema == SchemaWB {
		return ks.WB
	}
	return append(append([]string(nil), ks.Shared...), ks.Single...)
}

// BucketKeys lists the keys of one bucket of a schema.
func (ks Keyspace) BucketKeys(schema string, b int64) []string {
	var out []string
	for _, k := range ks.Keys(schema) {
		if ks.Bucket(k) == b {
			out = append(out, k)
		}
	}
	return out
}

// Names holds the per-run names that keep runs on one server apart.
type Names struct {
	Suffix string `json:"suffix"`
}

func (n Names) table(schema string) string  { return "chaos_" + schema + "_" + n.Suffix }
func (n Names) prefix(schema string) string { return schema + "_" + n.Suffix }
func (n Names) channel() string             { return "chaos:" + n.Suffix }
func (n Names) slot() string                { return "chaos_" + n.Suffix }

// RedisKey is where Strata keeps a record in Redis.
func (n Names) RedisKey(schema, id string) string { return "strata:" + n.prefix(schema) + ":" + id }

// StoreSpec is how an instance opens its DataStore.
type StoreSpec struct {
	PGAddr     string        `json:"pg_addr"`    // its PostgreSQL proxy
	RedisAddr  string        `json:"redis_addr"` // its Redis proxy
	Names      Names         `json:"names"`
	Feed       bool          `json:"feed"`
	FlushEvery time.Duration `json:"flush_every"`
}

// OpenStore opens and registers (does not migrate) an instance's DataStore.
// Redis calls give up after 1 s (go-redis honours the caller's deadline:
// l2redis sets ContextTimeoutEnabled), so a blackholed Redis costs a read
// that long at most before PostgreSQL answers.
func OpenStore(spec StoreSpec, log strata.Logger) (*strata.DataStore, error) {
	ds, err := strata.NewDataStore(strata.Config{
		PostgresDSN:              DSNFor(spec.PGAddr),
		RedisAddr:                spec.RedisAddr,
		L2Pool:                   strata.L2PoolConfig{DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second},
		L3Pool:                   strata.L3PoolConfig{MaxConns: 10, MinConns: 1},
		InvalidationChannel:      spec.Names.channel(),
		WriteBehindFlushInterval: spec.FlushEvery,
		ChangeFeed:               spec.Feed,
		ChangeFeedSlot:           spec.Names.slot(),
		Logger:                   log,
	})
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		mode strata.WriteMode
	}{{SchemaWT, strata.WriteThrough}, {SchemaWB, strata.WriteBehind}} {
		err := ds.Register(strata.Schema{Name: s.name, Model: &Rec{}, WriteMode: s.mode,
			L2: strata.RedisPolicy{KeyPrefix: spec.Names.prefix(s.name)},
			L3: strata.PostgresPolicy{TableName: spec.Names.table(s.name)}})
		if err != nil {
			ds.Close()
			return nil, err
		}
	}
	return ds, nil
}

// fileLogger is a strata.Logger writing one line per message to a file,
// with the time on the run's clock, for diagnosing a failed run.
type fileLogger struct {
	mu    sync.Mutex
	w     io.Writer
	proc  string
	epoch time.Time
}

func newFileLogger(path, proc string, epoch time.Time) (*fileLogger, io.Closer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("chaos: log file: %w", err)
	}
	return &fileLogger{w: f, proc: proc, epoch: epoch}, f, nil
}

func (l *fileLogger) line(level, msg string, kv []any) {
	var b strings.Builder
	fmt.Fprintf(&b, "%10.3fs %s %s %s", time.Since(l.epoch).Seconds(), l.proc, level, msg)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	b.WriteByte('\n')
	l.mu.Lock()
	_, _ = io.WriteString(l.w, b.String())
	l.mu.Unlock()
}

func (l *fileLogger) Info(msg string, kv ...any)  { l.line("INFO", msg, kv) }
func (l *fileLogger) Warn(msg string, kv ...any)  { l.line("WARN", msg, kv) }
func (l *fileLogger) Error(msg string, kv ...any) { l.line("ERROR", msg, kv) }
func (l *fileLogger) Debug(string, ...any)        {}
