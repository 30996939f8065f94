package chaos

import (
	"sort"
)

// writeRec is one key's part of one write operation.
type writeRec struct {
	op       *Op
	key      string
	ver      int64 // 0: a delete
	invoke   int64
	complete int64 // Infinity when the outcome is unknown
	acked    bool
	// effective is when the write had certainly taken effect: its
	// completion if acknowledged; for one of unknown outcome, the
	// completion of the first read that returned its version (a write
	// nobody saw, or a delete, stays at Infinity).
	effective int64
}

// supersession answers "when was a write definitely overwritten": the
// earliest time by which a write of the same key that began after the first
// had taken effect (so it is ordered after it) had certainly taken effect —
// its completion if acknowledged, or the first read of its version if its
// outcome is unknown. Unknown writes nobody read never count: they may not
// have happened.
type supersession struct {
	invokes []int64 // acknowledged writes, ascending invocation
	sufMin  []int64 // min completion over writes[i:]
	sufArg  []*writeRec
}

func newSupersession(ws []*writeRec, ackedOnly bool) *supersession {
	var acked []*writeRec
	for _, w := range ws {
		if w.acked || (!ackedOnly && w.effective != Infinity) {
			acked = append(acked, w)
		}
	}
	sort.Slice(acked, func(i, j int) bool { return acked[i].invoke < acked[j].invoke })
	s := &supersession{
		invokes: make([]int64, len(acked)),
		sufMin:  make([]int64, len(acked)+1),
		sufArg:  make([]*writeRec, len(acked)+1),
	}
	s.sufMin[len(acked)] = Infinity
	for i := len(acked) - 1; i >= 0; i-- {
		s.invokes[i] = acked[i].invoke
		s.sufMin[i], s.sufArg[i] = s.sufMin[i+1], s.sufArg[i+1]
		if acked[i].effective < s.sufMin[i] {
			s.sufMin[i], s.sufArg[i] = acked[i].effective, acked[i]
		}
	}
	return s
}

// after returns the earliest time a write that had taken effect by t was
// definitely overwritten (Infinity if never), and the write that did it.
func (s *supersession) after(t int64) (int64, *writeRec) {
	if t == Infinity {
		return Infinity, nil
	}
	i := sort.Search(len(s.invokes), func(i int) bool { return s.invokes[i] > t })
	return s.sufMin[i], s.sufArg[i]
}

// index holds, per key, every write and its supersession tables: over all
// instances, and per instance (for read-your-writes).
type index struct {
	byVer   map[keyVer]*writeRec
	deletes map[string][]*writeRec // per key; includes the initial absence
	all     map[string]*supersession
	own     map[string]map[string]*supersession // key → proc → table
}

type keyVer struct {
	key string
	ver int64
}

// initialProc marks the virtual write that makes every key absent at time 0.
const initialProc = "(initial)"

func buildIndex(ops []Op) *index {
	ix := &index{
		byVer:   map[keyVer]*writeRec{},
		deletes: map[string][]*writeRec{},
		all:     map[string]*supersession{},
		own:     map[string]map[string]*supersession{},
	}
	seen := map[keyVer]int64{} // first completion of a read of each version
	for i := range ops {
		op := &ops[i]
		if op.Kind.IsWrite() || op.Status != StatusOK {
			continue
		}
		for k, v := range op.Reads {
			if t, ok := seen[keyVer{k, v}]; v != 0 && (!ok || op.Complete < t) {
				seen[keyVer{k, v}] = op.Complete
			}
		}
	}
	perKey := map[string][]*writeRec{}
	for i := range ops {
		op := &ops[i]
		if !op.Kind.IsWrite() || op.Status == StatusFail {
			continue
		}
		for _, w := range op.Writes {
			rec := &writeRec{op: op, key: w.Key, ver: w.Ver, invoke: op.Invoke, complete: op.Complete, acked: op.Status == StatusOK, effective: op.Complete}
			if t, ok := seen[keyVer{w.Key, w.Ver}]; ok && !rec.acked && w.Ver != 0 {
				rec.effective = max(t, op.Invoke)
			}
			perKey[w.Key] = append(perKey[w.Key], rec)
			if w.Ver == 0 {
				ix.deletes[w.Key] = append(ix.deletes[w.Key], rec)
			} else {
				ix.byVer[keyVer{w.Key, w.Ver}] = rec
			}
		}
	}
	for key, ws := range perKey {
		ix.all[key] = newSupersession(ws, false)
		byProc := map[string][]*writeRec{}
		for _, w := range ws {
			byProc[w.op.Proc] = append(byProc[w.op.Proc], w)
		}
		ix.own[key] = map[string]*supersession{}
		for p, pws := range byProc {
			ix.own[key][p] = newSupersession(pws, true) // read-your-writes: acknowledged writes only
		}
	}
	return ix
}

// candidates returns the writes that could have produced ver for key: the
// write of that version, or for 0 every delete and the initial absence.
func (ix *index) candidates(key string, ver int64) []*writeRec {
	if ver != 0 {
		if w, ok := ix.byVer[keyVer{key, ver}]; ok {
			return []*writeRec{w}
		}
		return nil
	}
	init := &writeRec{op: &Op{ID: 0, Proc: initialProc}, key: key, invoke: -1, complete: -1, effective: -1, acked: true}
	return append([]*writeRec{init}, ix.deletes[key]...)
}

// supAll and supOwn are the supersession times of x by any instance's write
// and by proc's own writes.
func (ix *index) supAll(x *writeRec) (int64, *writeRec) {
	s, ok := ix.all[x.key]
	if !ok {
		return Infinity, nil
	}
	return s.after(x.effective)
}

func (ix *index) supOwn(x *writeRec, proc string) (int64, *writeRec) {
	s, ok := ix.own[x.key][proc]
	if !ok {
		return Infinity, nil
	}
	return s.after(x.effective)
}
