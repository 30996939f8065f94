// Package strataotel traces a Strata DataStore with OpenTelemetry: one span
// per operation (Get, Set, Search, ...), not one per tier, whose attributes
// say what the operation did. It is a module of its own, so that Strata's
// core does not depend on OpenTelemetry:
//
//	go get github.com/AndrewDonelson/strata/strata/otel
//
//	ds, err := strata.NewDataStore(strata.Config{
//		Tracer: strataotel.NewTracer(), // the global TracerProvider
//		...
//	})
//
// The span is named "strata.<op>" (strata.get, strata.set, ...), of kind
// internal, and becomes the parent of the spans that instrumented clients
// start under it (redisotel on a Config.RedisClient, otelpgx on a
// Config.PostgresPool). Its attributes:
//
//	strata.operation   the operation (strata.OpGet, ...)
//	strata.schema      the schema (absent for a Tx, which may span several)
//	strata.tier        the tier that served a read by id: l1, l2 or l3
//	strata.hit         whether a cache tier (L1 or L2) served it
//	strata.rows        the records read or written
//	strata.lease_wait  seconds waited for another reader's fill, when it waited
//	error.type         strata.ErrorClass of the error, when there was one
//
// An error other than not_found also sets the span's status to Error and
// records the error as an event. A read that shared another caller's load
// of the same key (L1's single-flight) reports no tier.
package strataotel

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/AndrewDonelson/strata/strata"
)

// ScopeName is the instrumentation scope of the spans.
const ScopeName = "github.com/AndrewDonelson/strata/strata/otel"

// Attribute keys of the spans.
const (
	OperationKey = attribute.Key("strata.operation")
	SchemaKey    = attribute.Key("strata.schema")
	TierKey      = attribute.Key("strata.tier")
	HitKey       = attribute.Key("strata.hit")
	RowsKey      = attribute.Key("strata.rows")
	LeaseWaitKey = attribute.Key("strata.lease_wait")
	ErrorTypeKey = attribute.Key("error.type")
)

// Option configures NewTracer.
type Option func(*config)

type config struct {
	tp    trace.TracerProvider
	attrs []attribute.KeyValue
}

// WithTracerProvider sets the TracerProvider (default: otel's global one,
// read when NewTracer is called).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithAttributes adds attributes to every span, e.g. db.namespace.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// Tracer is a strata.Tracer that starts OpenTelemetry spans.
type Tracer struct {
	tracer trace.Tracer
	attrs  []attribute.KeyValue
}

var _ strata.Tracer = (*Tracer)(nil)

// NewTracer returns a Tracer for strata.Config.Tracer.
func NewTracer(opts ...Option) *Tracer {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	return &Tracer{tracer: c.tp.Tracer(ScopeName), attrs: c.attrs}
}

// Start implements strata.Tracer.
func (t *Tracer) Start(ctx context.Context, op, schema string) (context.Context, func(strata.OpResult)) {
	attrs := make([]attribute.KeyValue, 0, 2+len(t.attrs))
	attrs = append(attrs, OperationKey.String(op))
	if schema != "" {
		attrs = append(attrs, SchemaKey.String(schema))
	}
	attrs = append(attrs, t.attrs...)
	ctx, span := t.tracer.Start(ctx, "strata."+op, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	if !span.IsRecording() {
		return ctx, func(strata.OpResult) { span.End() }
	}
	return ctx, func(r strata.OpResult) { end(span, r) }
}

// end sets the result's attributes on span and ends it.
func end(span trace.Span, r strata.OpResult) {
	attrs := make([]attribute.KeyValue, 0, 5)
	if r.Tier != "" {
		attrs = append(attrs, TierKey.String(r.Tier), HitKey.Bool(r.Hit))
	}
	attrs = append(attrs, RowsKey.Int(r.Rows))
	if r.LeaseWait > 0 {
		attrs = append(attrs, LeaseWaitKey.Float64(r.LeaseWait.Seconds()))
	}
	if r.Err != nil {
		class := strata.ErrorClass(r.Err)
		attrs = append(attrs, ErrorTypeKey.String(class))
		if class != "not_found" {
			span.RecordError(r.Err)
			span.SetStatus(codes.Error, r.Err.Error())
		}
	}
	span.SetAttributes(attrs...)
	span.End()
}
