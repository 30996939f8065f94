package strataotel_test

import (
	"context"
	"errors"

	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	strataotel "github.com/AndrewDonelson/strata/strata/otel"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Item is the model of the test's schema.
type Item struct {
	ID    string `strata:"primary_key"`
	Name  string
	Score int64
}

// spanHook starts a "redis.<cmd>" span for each command of the client it is
// added to, under the command's context: a stand-in for redisotel that
// shows which span a Redis call belongs to.
type spanHook struct{ tracer trace.Tracer }

func (h spanHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h spanHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, span := h.tracer.Start(ctx, "redis."+cmd.Name())
		defer span.End()
		return next(ctx, cmd)
	}
}

func (h spanHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, span := h.tracer.Start(ctx, "redis.pipeline")
		defer span.End()
		return next(ctx, cmds)
	}
}

var _ redis.Hook = spanHook{}

// attrs returns a span's attributes as a map.
func attrs(s sdktrace.ReadOnlySpan) map[string]any {
	out := map[string]any{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

// TestTracerSpansCarryTierHitRowsAndErrorClass: on real servers, each
// operation is one span "strata.<op>" under the caller's span, with the
// tier that served it, hit, rows and the error class; the Redis commands
// the operation sends are children of its span.
func TestTracerSpansCarryTierHitRowsAndErrorClass(t *testing.T) {
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())

	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	rdb.AddHook(spanHook{tracer: tp.Tracer("redis-test")})
	sfx := testenv.Suffix()
	schema := "otel_" + sfx
	ds, err := strata.NewDataStore(strata.Config{
		PostgresDSN: dsn, RedisClient: rdb, InvalidationChannel: "strata:test:" + sfx,
		Tracer: strataotel.NewTracer(strataotel.WithTracerProvider(tp)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: schema, Model: &Item{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{schema}.Sanitize())
			conn.Close(context.Background())
		}
		iter := rdb.Scan(context.Background(), 0, "*"+schema+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			rdb.Del(context.Background(), iter.Val())
		}
	}()
	if err := ds.Set(ctx, schema, "i1", &Item{ID: "i1", Name: "one", Score: 1}); err != nil {
		t.Fatal(err)
	}
	// L1 serves nothing until the invalidation bus has subscribed: poll
	// until a second read of i1 is an L1 hit.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := strata.GetTyped[Item](ctx, ds, schema, "i1"); err != nil {
			t.Fatal(err)
		}
		spans := exp.GetSpans().Snapshots()
		if last := spans[len(spans)-1]; attrs(last)["strata.tier"] == "l1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("reads of i1 never hit L1")
		}
		time.Sleep(20 * time.Millisecond)
	}
	exp.Reset()

	// i3 is written where no cache hears of it (an instance with
	// PostgreSQL only), so its first read here is cold.
	pgOnly, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer pgOnly.Close()
	if err := pgOnly.Register(strata.Schema{Name: schema, Model: &Item{}}); err != nil {
		t.Fatal(err)
	}
	if err := pgOnly.Set(ctx, schema, "i3", &Item{ID: "i3", Name: "three", Score: 3}); err != nil {
		t.Fatal(err)
	}

	// Under the caller's span: a write, a cold read (PostgreSQL), an L1
	// hit, a miss everywhere, a search and an error.
	parentCtx, parent := tp.Tracer("test").Start(ctx, "request")
	if err := ds.Set(parentCtx, schema, "i2", &Item{ID: "i2", Name: "two", Score: 2}); err != nil {
		t.Fatal(err)
	}
	var it Item
	if err := ds.Get(parentCtx, schema, "i3", &it); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Item](parentCtx, ds, schema, "i1"); err != nil {
		t.Fatal(err)
	}
	if err := ds.Get(parentCtx, schema, "nobody", &it); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("Get of a missing id = %v, want ErrNotFound", err)
	}
	q := strata.Q().Where("score >= $1", 1).Build()
	var items []Item
	if err := ds.Search(parentCtx, schema, &q, &items); err != nil {
		t.Fatal(err)
	}
	if err := ds.Get(parentCtx, "no_such_schema", "x", &it); !errors.Is(err, strata.ErrSchemaNotFound) {
		t.Fatalf("Get of an unknown schema = %v, want ErrSchemaNotFound", err)
	}
	parent.End()

	type got struct {
		Name   string
		Attrs  map[string]any
		Status codes.Code
	}
	var strataSpans []got
	for _, s := range exp.GetSpans().Snapshots() {
		if s.InstrumentationScope().Name != strataotel.ScopeName {
			continue
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %s has parent %v, want the caller's span", s.Name(), s.Parent().SpanID())
		}
		strataSpans = append(strataSpans, got{s.Name(), attrs(s), s.Status().Code})
	}
	op := func(name string, kv map[string]any) map[string]any {
		m := map[string]any{"strata.operation": name}
		for k, v := range kv {
			m[k] = v
		}
		return m
	}
	want := []got{
		{"strata.set", op("set", map[string]any{"strata.schema": schema, "strata.rows": int64(1)}), codes.Unset},
		{"strata.get", op("get", map[string]any{"strata.schema": schema, "strata.rows": int64(1), "strata.tier": "l3", "strata.hit": false}), codes.Unset},
		{"strata.get", op("get", map[string]any{"strata.schema": schema, "strata.rows": int64(1), "strata.tier": "l1", "strata.hit": true}), codes.Unset},
		{"strata.get", op("get", map[string]any{"strata.schema": schema, "strata.rows": int64(0), "error.type": "not_found"}), codes.Unset},
		{"strata.search", op("search", map[string]any{"strata.schema": schema, "strata.rows": int64(3)}), codes.Unset},
		{"strata.get", op("get", map[string]any{"strata.schema": "no_such_schema", "strata.rows": int64(0), "error.type": "invalid"}), codes.Error},
	}
	if d := cmp.Diff(want, strataSpans); d != "" {
		t.Fatalf("strata spans (-want +got):\n%s", d)
	}

	// The Redis commands of the cold Get (a GET, then the lease) ran under
	// its span, not beside it.
	var coldGet trace.SpanID
	for _, s := range exp.GetSpans().Snapshots() {
		if s.Name() == "strata.get" && attrs(s)["strata.tier"] == "l3" {
			coldGet = s.SpanContext().SpanID()
		}
	}
	var children []string
	for _, s := range exp.GetSpans().Snapshots() {
		if s.Parent().SpanID() == coldGet {
			children = append(children, s.Name())
		}
	}
	if len(children) == 0 {
		t.Fatalf("no Redis span is a child of the cold Get's span; spans: %v", names(exp.GetSpans().Snapshots()))
	}
	for _, c := range children {
		if len(c) < 6 || c[:6] != "redis." {
			t.Errorf("child %q of the cold Get is not a Redis command", c)
		}
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// TestTracerWithNoRecordingProviderEndsSpans: with a provider that samples
// nothing, Start still returns a working end function.
func TestTracerWithNoRecordingProviderEndsSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.NeverSample()))
	defer tp.Shutdown(context.Background())
	tr := strataotel.NewTracer(strataotel.WithTracerProvider(tp), strataotel.WithAttributes(attribute.String("service", "x")))
	ctx, end := tr.Start(context.Background(), strata.OpGet, "s")
	if ctx == nil || end == nil {
		t.Fatal("Start returned a nil context or end function")
	}
	end(strata.OpResult{Tier: "l1", Hit: true, Rows: 1})
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("a never-sampling provider exported %d spans", n)
	}
}
