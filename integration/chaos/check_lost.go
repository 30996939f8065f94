package chaos

import (
	"fmt"
	"sort"
)

// LostReport is the result of CheckLost.
type LostReport struct {
	Keys       int         `json:"keys"`
	Acked      int         `json:"acked_writes"`
	Unknown    int         `json:"unknown_writes"`
	Lost       int         `json:"lost"`
	Violations []Violation `json:"violations"`
}

// CheckLost checks that no acknowledged write is lost: for each key, the
// final value in PostgreSQL (final[key], 0 or absent from the map when the
// row is absent) must have been written by a write that no acknowledged
// write of the key definitely followed (nor a write of unknown outcome
// whose version some read returned: it happened). Writes are keyed by the versions
// they wrote; a write-behind write counts as acknowledged only when its
// instance closed cleanly (the caller marks the others unknown).
func CheckLost(ops []Op, keys []string, final map[string]int64) LostReport {
	ix := buildIndex(ops)
	rep := LostReport{Keys: len(keys)}
	for i := range ops {
		if ops[i].Kind.IsWrite() {
			switch ops[i].Status {
			case StatusOK:
				rep.Acked += len(ops[i].Writes)
			case StatusUnknown:
				rep.Unknown += len(ops[i].Writes)
			}
		}
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for _, key := range sorted {
		ver := final[key]
		cands := ix.candidates(key, ver)
		if len(cands) == 0 {
			rep.Lost++
			rep.Violations = append(rep.Violations, Violation{Check: "phantom-final", Key: key,
				Detail: fmt.Sprintf("PostgreSQL holds version %d, which no write that may have been applied wrote", ver)})
			continue
		}
		var (
			ok    bool
			worst *writeRec
			by    *writeRec
		)
		for _, x := range cands {
			t, w := ix.supAll(x)
			if t == Infinity {
				ok = true
				break
			}
			if worst == nil || x.effective > worst.effective {
				worst, by = x, w
			}
		}
		if ok {
			continue
		}
		rep.Lost++
		what := fmt.Sprintf("version %d (op %d)", ver, worst.op.ID)
		if ver == 0 {
			what = "no row"
			if worst.op.ID != 0 {
				what = fmt.Sprintf("no row (deleted by op %d)", worst.op.ID)
			}
		}
		how := "acknowledged"
		if !by.acked {
			how = "outcome unknown, but its version was read"
		}
		rep.Violations = append(rep.Violations, Violation{Check: "lost-write", Op: by.op.ID, Proc: by.op.Proc, Key: key,
			Others: []int64{worst.op.ID},
			Detail: fmt.Sprintf("PostgreSQL ends with %s, but op %d (%s, %s) wrote version %d after that", what, by.op.ID, by.op.Kind, how, by.ver)})
	}
	return rep
}
