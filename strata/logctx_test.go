package strata_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type traceKey struct{}

// traceHandler records, for each log line, the trace id the context it was
// logged with carried — as an OpenTelemetry-aware handler would read it.
type traceHandler struct {
	mu    sync.Mutex
	lines map[string]string // message → trace id ("" when the context had none)
}

func (h *traceHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *traceHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *traceHandler) WithGroup(string) slog.Handler            { return h }
func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	id, _ := ctx.Value(traceKey{}).(string)
	h.mu.Lock()
	h.lines[r.Message] = id
	h.mu.Unlock()
	return nil
}

func (h *traceHandler) traceOf(prefix string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for msg, id := range h.lines {
		if strings.HasPrefix(msg, prefix) {
			return id, true
		}
	}
	return "", false
}

// TestSlogLoggerGetsTheCallsContext: with a *slog.Logger in Config.Logger, a
// line logged during a call reaches the handler with that call's context (so
// trace ids flow); a four-method Logger still receives the same line.
func TestSlogLoggerGetsTheCallsContext(t *testing.T) {
	t.Parallel()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	name := "logctx_" + testenv.Suffix()
	h := &traceHandler{lines: map[string]string{}}
	plain := &captureLogger{}
	pgTable(t, dsn, name)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	defer rdb.Del(context.Background(), "strata:"+name+":a1")
	for _, l := range []strata.Logger{slog.New(h), plain} {
		ds := openStore(t, strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + name, Logger: l},
			strata.Schema{Name: name, Model: &Account{}})
		ctx := ctxT(t)
		if err := ds.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ds.Set(ctx, name, "a1", &Account{ID: "a1", Username: "ada"}); err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(ctx, "strata:"+name+":a1", garbage, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		ds.DropL1(name, "a1")
		traced := context.WithValue(ctx, traceKey{}, "trace-4bf92f35")
		if _, err := strata.GetTyped[Account](traced, ds, name, "a1"); err != nil {
			t.Fatal(err)
		}
	}
	const msg = "strata: undecodable value in redis; deleted"
	if id, ok := h.traceOf(msg); !ok || id != "trace-4bf92f35" {
		t.Errorf("slog handler got %q with trace id %q (logged: %v); want the Get's trace-4bf92f35", msg, id, ok)
	}
	if len(plain.find("WARN", msg)) == 0 {
		t.Errorf("the four-method Logger did not get %q", msg)
	}
}
