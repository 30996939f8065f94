package integration_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/strata"
)

// openInstrumented is how a service gives Strata clients that trace every
// Redis command (redisotel) and every PostgreSQL query (otelpgx): it builds
// them, attaches the instrumentation, and passes them in Config.RedisClient
// and Config.PostgresPool. Strata leaves both open on Close; the caller
// closes them.
func openInstrumented(ctx context.Context, dsn, addr string, tp oteltrace.TracerProvider) (*strata.DataStore, func(), error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true}) // Strata needs deadlines honoured
	if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tp)); err != nil {
		rdb.Close()
		return nil, nil, err
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	pcfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	ds, err := strata.NewDataStore(strata.Config{RedisClient: rdb, PostgresPool: pool})
	if err != nil {
		pool.Close()
		rdb.Close()
		return nil, nil, err
	}
	return ds, func() { ds.Close(); pool.Close(); rdb.Close() }, nil
}

// Bring your own clients, instrumented with OpenTelemetry: redisotel and
// otelpgx attached to the client and pool Strata is given (see
// openInstrumented; TestOwnClientsTracedByRedisotelAndOtelpgx runs it).
func Example_ownClientsWithOpenTelemetry() {
	ctx := context.Background()
	tp := trace.NewTracerProvider() // with your exporter: trace.WithBatcher(exp)
	defer tp.Shutdown(ctx)
	ds, closeAll, err := openInstrumented(ctx, os.Getenv("STRATA_POSTGRES_DSN"), os.Getenv("STRATA_REDIS_ADDR"), tp)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeAll()
	_ = ds.Ping(ctx)
}

// TestOwnClientsTracedByRedisotelAndOtelpgx: Strata's Redis commands and
// PostgreSQL queries, made through the caller's instrumented client and
// pool, appear as spans of the caller's tracer provider, as children of the
// caller's span.
func TestOwnClientsTracedByRedisotelAndOtelpgx(t *testing.T) {
	t.Parallel()
	dsn, addr := harness.PostgresDSN(t), harness.RedisAddr(t)
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := trace.NewTracerProvider(trace.WithSpanProcessor(rec))
	defer tp.Shutdown(ctx)
	ds, closeAll, err := openInstrumented(ctx, dsn, addr, tp)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	name := "otelclients_" + fmt.Sprint(os.Getpid())
	if err := ds.Register(strata.Schema{Name: name, Model: &Score{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = ds.Postgres().Exec(context.Background(), "DROP TABLE IF EXISTS "+name) }()
	defer ds.Redis().Del(context.Background(), "strata:"+name+":s1")

	parent, span := tp.Tracer("test").Start(ctx, "request")
	if err := ds.Set(parent, name, "s1", &Score{ID: "s1", Value: 1}); err != nil {
		t.Fatal(err)
	}
	_ = ds.Invalidate(parent, name, "s1")
	if _, err := strata.GetTyped[Score](parent, ds, name, "s1"); err != nil {
		t.Fatal(err)
	}
	span.End()

	var redisSpans, pgSpans int
	for _, s := range rec.Ended() {
		if s.Parent().TraceID() != span.SpanContext().TraceID() {
			continue
		}
		for _, kv := range s.Attributes() {
			if kv.Key == "db.system" || kv.Key == "db.system.name" {
				switch kv.Value.AsString() {
				case "redis":
					redisSpans++
				case "postgresql":
					pgSpans++
				}
			}
		}
	}
	if redisSpans == 0 || pgSpans == 0 {
		var names []string
		for _, s := range rec.Ended() {
			names = append(names, s.Name())
		}
		t.Errorf("spans under the request: %d from Redis, %d from PostgreSQL; want some of each (all spans: %v)", redisSpans, pgSpans, names)
	}
}
