package chaos

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Fault is one injected fault: its kind, whom it hits, and when.
type Fault struct {
	Kind string `json:"kind"`
	// Target is the instance slot whose link the fault hits ("a", "c1", …),
	// or "*" for a fault of a server, which hits every instance.
	Target string `json:"target"`
	Start  int64  `json:"start"` // ns on the history's clock
	End    int64  `json:"end"`
}

func (f Fault) hits(proc string) bool { return f.Target == "*" || f.Target == slotOf(proc) }

// slotOf is the instance slot of a proc: "c1.3" (the fourth incarnation of
// child slot c1) → "c1"; in-process instances have one incarnation.
func slotOf(proc string) string {
	if i := strings.IndexByte(proc, '.'); i >= 0 {
		return proc[:i]
	}
	return proc
}

// Bounds are what the read check holds reads to.
//
// A read returns, for each key, a value that must have been current — the
// key's value in PostgreSQL — at some instant within [invoke − bound,
// complete]. Its staleness is how long before its invocation that value
// had definitely been overwritten (by an acknowledged write that began after
// it completed); 0 when it may still have been current.
//
//   - Outside faults, bound is Calm[schema].
//   - Writer side: while a Redis fault hits the instance of the write that
//     overwrote the value returned (its link, or the server), and until
//     Grace after it heals, a read may return any value current since the
//     fault began, less Calm: bound = invoke − fault start + Calm. Faults
//     whose grace periods overlap count as one. For write-behind schemas
//     PostgreSQL faults count too, and Grace grows by the fault's length
//     (the flusher's backoff doubles while it lasts).
//   - Reader side: when a Redis fault hits the reader's own link (or its
//     subscription is killed), the same bound holds until Detect after the
//     fault began (or its end, if sooner), plus Calm: after that the
//     reader must have stopped serving L1.
//   - Read-your-writes has no bound: a read never returns a value its own
//     instance had definitely overwritten before the read began (except
//     the NoReadYourWrites kinds).
type Bounds struct {
	Calm  map[string]time.Duration // per schema ("wt", "wb")
	Grace time.Duration
	// Detect is how long an instance may go on serving L1 after its link
	// to Redis failed or fell silent (2 × InvalidationHealthCheck).
	Detect time.Duration
	// GraceGrows lists the schemas whose grace grows with the fault.
	GraceGrows map[string]bool
	// NoReadYourWrites lists "schema/kind" pairs exempt from
	// read-your-writes and held to the calm bound instead: a Search or
	// SearchCached of a write-behind schema queries PostgreSQL, which its
	// own instance's pending writes have not reached.
	NoReadYourWrites map[string]bool
}

func (b Bounds) noOwnRule(r *Op) bool { return b.NoReadYourWrites[r.Schema+"/"+string(r.Kind)] }

// Violation is one failed check, with the operations involved.
type Violation struct {
	Check  string  `json:"check"`
	Op     int64   `json:"op"` // the read, or the lost write
	Proc   string  `json:"proc,omitempty"`
	Key    string  `json:"key,omitempty"`
	Detail string  `json:"detail"`
	Others []int64 `json:"others,omitempty"` // related operations
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s: op %d", v.Check, v.Op)
	if v.Proc != "" {
		s += " on " + v.Proc
	}
	if v.Key != "" {
		s += " key " + v.Key
	}
	s += ": " + v.Detail
	if len(v.Others) > 0 {
		s += fmt.Sprintf(" (ops %v)", v.Others)
	}
	return s
}

// Dist is a distribution of durations.
type Dist struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

func (d Dist) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", d.N, d.P50.Round(time.Microsecond), d.P99.Round(time.Microsecond), d.Max.Round(time.Microsecond))
}

func distOf(xs []time.Duration) Dist {
	if len(xs) == 0 {
		return Dist{}
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return Dist{N: len(s), P50: at(0.50), P99: at(0.99), Max: s[len(s)-1]}
}

// Sample is one stale read, for the chart: when it began and how stale it was.
type Sample struct {
	At        int64         `json:"at"`
	Staleness time.Duration `json:"staleness_ns"`
	Schema    string        `json:"schema"`
	// InFault: the read began during a fault or within Grace after it.
	InFault bool `json:"in_fault"`
	// Excused: its staleness exceeded the calm bound and a fault excused it.
	Excused bool `json:"excused,omitempty"`
}

// ReadReport is the result of CheckReads.
type ReadReport struct {
	// Elements counts the key-level reads checked (a GetMany of 5 keys is 5).
	Elements int `json:"elements"`
	// Stale counts those whose value had been overwritten before the read
	// began (staleness > 0); Excused those beyond Calm that a fault
	// excused.
	Stale   int `json:"stale"`
	Excused int `json:"excused"`
	// All is the staleness over every element; StaleOnly over the stale
	// ones; OutsideFaults over the elements that began outside every fault
	// and its grace period (where only the calm bound holds), DuringFaults
	// over the others.
	All           Dist `json:"all"`
	StaleOnly     Dist `json:"stale_only"`
	OutsideFaults Dist `json:"outside_faults"`
	DuringFaults  Dist `json:"during_faults"`
	// PerSchema is All per schema.
	PerSchema  map[string]Dist `json:"per_schema"`
	Violations []Violation     `json:"violations"`
	Samples    []Sample        `json:"samples,omitempty"`

	values, calmValues []time.Duration            // for merging runs (all, outside faults)
	schemaValues       map[string][]time.Duration // per schema
	schemaCalm         map[string][]time.Duration // per schema, outside faults
}

// CheckReads checks every successful read of ops, element by element,
// against the writes of ops, the faults and the bounds.
func CheckReads(ops []Op, faults []Fault, b Bounds) ReadReport {
	ix := buildIndex(ops)
	fs := append([]Fault(nil), faults...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start })
	periods := faultPeriods(fs, b.Grace)
	var (
		rep       = ReadReport{PerSchema: map[string]Dist{}}
		all       []time.Duration
		staleOnly []time.Duration
		calm      []time.Duration
		during    []time.Duration
		perSchema = map[string][]time.Duration{}
		perCalm   = map[string][]time.Duration{}
	)
	for i := range ops {
		r := &ops[i]
		if r.Kind.IsWrite() || r.Status != StatusOK {
			continue
		}
		keys := make([]string, 0, len(r.Reads))
		for k := range r.Reads {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			ver := r.Reads[key]
			rep.Elements++
			v, s, excused := checkElement(ix, fs, b, r, key, ver)
			inFault := periods.covers(r.Invoke)
			if v != nil {
				rep.Violations = append(rep.Violations, *v)
			}
			all = append(all, s)
			perSchema[r.Schema] = append(perSchema[r.Schema], s)
			if s > 0 {
				rep.Stale++
				staleOnly = append(staleOnly, s)
				rep.Samples = append(rep.Samples, Sample{At: r.Invoke, Staleness: s, Schema: r.Schema, InFault: inFault, Excused: excused})
			}
			if excused {
				rep.Excused++
			}
			if inFault {
				during = append(during, s)
			} else {
				calm = append(calm, s)
				perCalm[r.Schema] = append(perCalm[r.Schema], s)
			}
		}
	}
	rep.All, rep.StaleOnly, rep.OutsideFaults, rep.DuringFaults = distOf(all), distOf(staleOnly), distOf(calm), distOf(during)
	rep.values, rep.calmValues, rep.schemaValues, rep.schemaCalm = all, calm, perSchema, perCalm
	for s, xs := range perSchema {
		rep.PerSchema[s] = distOf(xs)
	}
	return rep
}

// checkElement checks that r saw ver for key. It returns a violation (or
// nil), the staleness, and whether a fault excused a staleness beyond Calm.
func checkElement(ix *index, faults []Fault, b Bounds, r *Op, key string, ver int64) (*Violation, time.Duration, bool) {
	cands := ix.candidates(key, ver)
	if len(cands) == 0 {
		return &Violation{Check: "phantom", Op: r.ID, Proc: r.Proc, Key: key,
			Detail: fmt.Sprintf("%s read version %d, which no write that may have been applied wrote", r.Kind, ver)}, 0, false
	}
	calm := b.Calm[r.Schema]
	type verdict struct {
		future        bool
		ownStale      int64
		stale         int64
		x, overwriter *writeRec
		ownOver       *writeRec
	}
	var best *verdict
	better := func(a, b *verdict) bool { // is a a better explanation than b?
		if a.future != b.future {
			return !a.future
		}
		if (a.ownStale > 0) != (b.ownStale > 0) {
			return a.ownStale == 0
		}
		return a.stale < b.stale
	}
	for _, x := range cands {
		v := &verdict{x: x, future: x.invoke > r.Complete}
		if t, w := ix.supAll(x); t < r.Invoke {
			v.stale, v.overwriter = r.Invoke-t, w
		}
		if t, w := ix.supOwn(x, r.Proc); t < r.Invoke && !b.noOwnRule(r) {
			v.ownStale, v.ownOver = r.Invoke-t, w
		}
		if best == nil || better(v, best) {
			best = v
		}
	}
	s := time.Duration(best.stale)
	switch {
	case best.future:
		return &Violation{Check: "future-read", Op: r.ID, Proc: r.Proc, Key: key, Others: []int64{best.x.op.ID},
			Detail: fmt.Sprintf("%s read version %d, written by op %d invoked %v after the read completed", r.Kind, ver, best.x.op.ID, time.Duration(best.x.invoke-r.Complete))}, s, false
	case best.ownStale > 0:
		return &Violation{Check: "read-your-writes", Op: r.ID, Proc: r.Proc, Key: key, Others: []int64{best.x.op.ID, best.ownOver.op.ID},
			Detail: fmt.Sprintf("%s read version %d (op %d), which op %d of the same instance had overwritten %v before the read began", r.Kind, ver, best.x.op.ID, best.ownOver.op.ID, time.Duration(best.ownStale))}, s, false
	case s <= calm:
		return nil, s, false
	}
	var overProc string
	if best.overwriter != nil {
		overProc = best.overwriter.op.Proc
	}
	if start, ok := excusedSince(faults, b, r, overProc); ok {
		if allowed := time.Duration(r.Invoke-start) + calm; s <= allowed {
			return nil, s, true
		}
	}
	return &Violation{Check: "stale-read", Op: r.ID, Proc: r.Proc, Key: key, Others: []int64{best.x.op.ID, best.overwriter.op.ID},
		Detail: fmt.Sprintf("%s read version %d (op %d), overwritten by op %d of %s %v before the read began; bound %v",
			r.Kind, ver, best.x.op.ID, best.overwriter.op.ID, best.overwriter.op.Proc, s.Round(time.Microsecond), calm)}, s, false
}

// Which faults excuse a stale read, and how (see Bounds).
//
// Writer side: a fault of Redis, or of the overwriting instance's link to
// it, keeps that instance from deleting the key and telling the others;
// Strata repairs that when Redis answers again. (For write-behind schemas,
// PostgreSQL faults too: the pending value reaches the others only once
// flushed.) Reader side: a fault of the reader's own link to Redis (or of
// its subscription) keeps invalidations from it; Strata stops serving L1
// once it notices, within Detect.
func writerSide(kind, schema string, grows bool) bool {
	switch kind {
	case "redis-blackhole", "redis-latency", "redis-reset", "redis-slowclose", "redis-pause", "redis-restart":
		return true
	case "pg-blackhole", "pg-latency", "pg-reset", "pg-slowclose", "pg-pause", "pg-restart":
		return grows
	}
	return false
}

func readerSide(kind string) bool {
	switch kind {
	case "redis-blackhole", "redis-latency", "redis-reset", "redis-slowclose", "redis-pause", "redis-restart", "subscriber-kill":
		return true
	}
	return false
}

// excusedSince returns the start of the fault period that excuses r, if
// one does. Writer side: faults hitting the overwriter, merged into one
// period while their graces overlap, excuse reads until Grace after the
// period ends. Reader side: a fault hitting the reader excuses reads until
// Detect after it began (or its end, if sooner), plus the calm bound.
func excusedSince(faults []Fault, b Bounds, r *Op, overProc string) (int64, bool) {
	var (
		chainStart, chainEnd int64 = 0, -1
		found                      = false
		bestStart            int64
	)
	take := func(start int64) {
		if !found || start < bestStart {
			bestStart, found = start, true
		}
	}
	grows := b.GraceGrows[r.Schema]
	for _, f := range faults {
		if f.Start > r.Invoke {
			break
		}
		if readerSide(f.Kind) && f.hits(r.Proc) {
			if r.Invoke <= min(f.End, f.Start+int64(b.Detect))+int64(b.Calm[r.Schema]) {
				take(f.Start)
			}
		}
		if overProc == "" || !writerSide(f.Kind, r.Schema, grows) || !f.hits(overProc) {
			continue
		}
		grace := b.Grace
		if grows {
			grace += time.Duration(f.End - f.Start)
		}
		if f.Start > chainEnd { // a new period
			chainStart = f.Start
		}
		chainEnd = max(chainEnd, f.End+int64(grace))
		if r.Invoke <= chainEnd {
			take(chainStart)
		}
	}
	return bestStart, found
}

// periods are the merged fault windows, each extended by the grace period.
type periods [][2]int64

func faultPeriods(sorted []Fault, grace time.Duration) periods {
	var ps periods
	for _, f := range sorted {
		end := f.End + int64(grace)
		if n := len(ps); n > 0 && f.Start <= ps[n-1][1] {
			ps[n-1][1] = max(ps[n-1][1], end)
			continue
		}
		ps = append(ps, [2]int64{f.Start, end})
	}
	return ps
}

func (ps periods) covers(t int64) bool {
	i := sort.Search(len(ps), func(i int) bool { return ps[i][1] >= t })
	return i < len(ps) && ps[i][0] <= t
}
