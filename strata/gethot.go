package strata

import (
	"context"
	"reflect"

	"github.com/AndrewDonelson/strata/strata/metrics"
)

// hotRead is what GetTyped's L1 fast path (l1HitTyped) needs to know about
// a schema, decided once at Register so that an L1 hit re-decides nothing.
type hotRead struct {
	// l1 is set when an L1 hit of the schema can be served by l1HitTyped:
	// no Tracer, L1 in use, a flat model (a plain copy is a deep copy), no
	// BeforeGet or AfterGet hook and no refresh-ahead of L1 entries.
	l1 bool
	// hits is Config.Metrics, or nil for the default no-op recorder, whose
	// Hit is then not called at all.
	hits metrics.MetricsRecorder
}

// newHotRead decides st's hotRead (st's hooks, tiers and refresh-ahead are
// resolved).
func (ds *DataStore) newHotRead(st *schemaState) hotRead {
	h := hotRead{hits: ds.cfg.Metrics}
	if _, noop := h.hits.(metrics.Noop); noop {
		h.hits = nil
	}
	h.l1 = ds.cfg.Tracer == nil && st.useL1 && st.flat && st.ahead.l1 == 0 &&
		st.Hooks.BeforeGet == nil && st.Hooks.AfterGet == nil
	return h
}

// l1HitTyped returns id's L1 snapshot, counted in Stats, if the call can
// be served from it exactly as the full path (begin, load) would serve it,
// else nil, and the caller takes the full path, which also reports every
// error. It checks what begin checks (a context, not closed, not
// cancelled), the type getTyped checks, and reads L1 as load does (only
// while L1 is live; an absence marker is not a *T). It skips load's id
// check: an id in L1 has passed it when it was stored, and an empty id is
// never stored.
func l1HitTyped[T any](ctx context.Context, ds *DataStore, schema, id string) *T {
	st := ds.hints.lookup(schema)
	if st == nil || !st.hot.l1 || ctx == nil || id == "" || ds.life.closed.Load() || ctx.Err() != nil ||
		reflect.TypeOf((*T)(nil)) != st.ptrType || !ds.l1Live() {
		return nil
	}
	snap, ok := st.l1.Get(id)
	if !ok {
		return nil
	}
	p, _ := snap.(*T)
	if p != nil {
		ds.stats.gets.Add(1)
		if st.hot.hits != nil {
			st.hot.hits.Hit(st.Name, metrics.TierL1)
		}
	}
	return p
}
