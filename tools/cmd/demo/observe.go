package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/AndrewDonelson/strata/strata"
	strataotel "github.com/AndrewDonelson/strata/strata/otel"
	strataprom "github.com/AndrewDonelson/strata/strata/prom"
)

// stepObserve opens an instance with the OpenTelemetry and Prometheus
// adapters — and its own Redis client and pool instrumented with redisotel
// and otelpgx — runs a request's reads under one span, prints the trace as
// a tree, then scrapes /metrics over HTTP as Prometheus would.
func (d *demo) stepObserve(ctx context.Context) error {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())

	rdb := redis.NewClient(&redis.Options{Addr: d.srv.RedisAddr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tp)); err != nil {
		return err
	}
	pcfg, err := pgxpool.ParseConfig(d.srv.PostgresDSN)
	if err != nil {
		return err
	}
	pcfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	reg := prometheus.NewRegistry()
	rec, err := strataprom.New(reg, nil)
	if err != nil {
		return err
	}
	ds, err := strata.NewDataStore(strata.Config{
		RedisClient: rdb, PostgresPool: pool, InvalidationChannel: d.channel, EncryptionKey: d.key,
		Metrics: rec, Tracer: strataotel.NewTracer(strataotel.WithTracerProvider(tp)), Logger: d.log,
	})
	if err != nil {
		return err
	}
	defer ds.Close()
	if err := rec.Watch(ds); err != nil {
		return err
	}
	if err := ds.Register(strata.Schema{Name: d.schema, Model: &Player{}, L2: strata.RedisPolicy{KeyPrefix: d.prefix}}); err != nil {
		return err
	}
	// L1 serves once the invalidation bus has subscribed: wait for that
	// (the Recorder counts it) so the trace shows an L1 hit.
	if err := waitMetric(ctx, reg, "strata_resubscribe_flushes_total", 1); err != nil {
		return err
	}

	// One request: a cold read of a record this instance never read (L1
	// misses; Redis or PostgreSQL serves it), the same read again (L1), a
	// missing id, and the cached leaderboard twice (a miss, then a hit).
	id := playerID(d.o.records - 2)
	reqCtx, req := tp.Tracer("demo").Start(ctx, "demo.request")
	if _, err := strata.GetTyped[Player](reqCtx, ds, d.schema, id); err != nil {
		return err
	}
	if _, err := strata.GetTyped[Player](reqCtx, ds, d.schema, id); err != nil {
		return err
	}
	if _, err := strata.GetTyped[Player](reqCtx, ds, d.schema, "nobody"); err == nil {
		return fmt.Errorf("a Get of a missing id succeeded")
	}
	q := strata.Q().Where("score >= $1", 0).OrderBy("score").Desc().Limit(5).Build()
	for range 2 {
		var top []Player
		if err := ds.SearchCached(reqCtx, d.schema, &q, &top); err != nil {
			return err
		}
	}
	req.End()

	fmt.Fprintln(d.out, "   The trace of one request (strataotel spans; Redis and PostgreSQL spans from redisotel and otelpgx):")
	printTrace(d.out, exp.GetSpans().Snapshots(), req.SpanContext().SpanID())

	scrape, err := scrapeMetrics(ctx, reg)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\n   GET /metrics (strataprom), the strata_ series that are not zero, histograms by their count:")
	for _, l := range scrape {
		fmt.Fprintln(d.out, "     "+l)
	}
	return nil
}

// printTrace prints the spans below root (root included) as a tree.
func printTrace(w io.Writer, spans []sdktrace.ReadOnlySpan, root trace.SpanID) {
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	var top sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanContext().SpanID() == root {
			top = s
			continue
		}
		children[s.Parent().SpanID()] = append(children[s.Parent().SpanID()], s)
	}
	if top == nil {
		return
	}
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		var attrs []string
		for _, kv := range s.Attributes() {
			if k := string(kv.Key); strings.HasPrefix(k, "strata.") && k != "strata.operation" || k == "error.type" {
				attrs = append(attrs, fmt.Sprintf("%s=%v", strings.TrimPrefix(k, "strata."), kv.Value.AsInterface()))
			}
		}
		name := s.Name()
		if stmt := statementOf(s); stmt != "" {
			name += " " + stmt
		}
		fmt.Fprintf(w, "     %s%-*s %9s  %s\n", strings.Repeat("  ", depth), 60-2*depth, name, s.EndTime().Sub(s.StartTime()).Round(time.Microsecond), strings.Join(attrs, " "))
		kids := children[s.SpanContext().SpanID()]
		slices.SortFunc(kids, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	walk(top, 0)
}

// statementOf returns the start of a Redis or SQL span's statement,
// without the command its name already gives.
func statementOf(s sdktrace.ReadOnlySpan) string {
	for _, kv := range s.Attributes() {
		if k := string(kv.Key); k == "db.statement" || k == "db.query.text" {
			f := strings.Fields(kv.Value.AsString())
			if len(f) > 0 && strings.EqualFold(f[0], s.Name()) {
				f = f[1:]
			}
			stmt := strings.Join(f, " ")
			if r := []rune(stmt); len(r) > 36 {
				stmt = string(r[:36]) + "…"
			}
			return stmt
		}
	}
	return ""
}

// waitMetric waits until the counter name (any labels, summed) reaches n.
func waitMetric(ctx context.Context, reg prometheus.Gatherer, name string, n float64) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		families, err := reg.Gather()
		if err != nil {
			return err
		}
		var sum float64
		for _, f := range families {
			if f.GetName() == name {
				for _, m := range f.GetMetric() {
					sum += m.GetCounter().GetValue()
				}
			}
		}
		if sum >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not reach %v within 15s", name, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// scrapeMetrics serves reg on a loopback port, GETs /metrics as Prometheus
// would and returns the strata_ samples that are not zero (histograms by
// their _count line).
func scrapeMetrics(ctx context.Context, reg *prometheus.Registry) ([]string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	var out []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "strata_") || strings.Contains(l, "_bucket{") || strings.Contains(l, "_sum{") || strings.HasSuffix(l, " 0") {
			continue
		}
		out = append(out, l)
	}
	return out, sc.Err()
}
