package strata

import (
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// hotRead is what GetTyped's L1 fast path needs to know about a schema,
// decided once at Register so that an L1 hit re-decides nothing.
//
// The fast path (in GetTyped, inline: a call costs a measurable share of an
// L1 hit) does only what begin, getTyped and load do on an L1 hit: the
// schema hint, the nil, closed and cancelled checks, l1Live, one L1
// GetTallied (whose tally is the hit's Stats count), the type check (the
// assertion of the L1 value to *T, which only the model type passes) and,
// for a recorder other than the no-op, its Hit. Anything else — a miss, an absence marker (not a *T), an unhinted
// name — takes the full path, which also reports every error. It skips
// load's id check: an id found in L1 passed it when it was stored, and an
// empty id is never looked up.
type hotRead struct {
	// l1 is set when the fast path may serve an L1 hit of the schema:
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
	h.l1 = ds.cfg.Tracer == nil && st.l1Serves() && st.flat && st.ahead.l1 == 0 &&
		st.Hooks.BeforeGet == nil && st.Hooks.AfterGet == nil
	return h
}
