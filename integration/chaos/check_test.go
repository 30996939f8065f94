package chaos_test

import (
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/integration/chaos"
)

const ms = int64(time.Millisecond)

// hist builds hand-made histories; times are in milliseconds.
type hist struct {
	ops  []chaos.Op
	next int64
}

func (h *hist) add(op chaos.Op) int64 {
	h.next++
	op.ID = h.next
	if op.Schema == "" {
		op.Schema = "wt"
	}
	if op.Status == chaos.StatusUnknown {
		op.Complete = chaos.Infinity
	}
	h.ops = append(h.ops, op)
	return op.ID
}

func (h *hist) set(proc, key string, ver, inv, comp int64, st chaos.Status) int64 {
	k := chaos.KindSet
	if ver == 0 {
		k = chaos.KindDelete
	}
	return h.add(chaos.Op{Proc: proc, Kind: k, Writes: []chaos.Write{{Key: key, Ver: ver}}, Invoke: inv * ms, Complete: comp * ms, Status: st})
}

func (h *hist) get(proc, key string, ver, inv, comp int64) int64 {
	return h.add(chaos.Op{Proc: proc, Kind: chaos.KindGet, Reads: map[string]int64{key: ver}, Invoke: inv * ms, Complete: comp * ms, Status: chaos.StatusOK})
}

var testBounds = chaos.Bounds{
	Calm:       map[string]time.Duration{"wt": 100 * time.Millisecond, "wb": 100 * time.Millisecond},
	Grace:      100 * time.Millisecond,
	Detect:     200 * time.Millisecond,
	GraceGrows: map[string]bool{"wb": true},
}

// checks lists the Check of each violation, for comparison.
func checks(vs []chaos.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Check+"@"+itoa(v.Op))
	}
	return out
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestCheckReads(t *testing.T) {
	t.Parallel()
	type want struct {
		violations []string // check@op, in order
		stale      int
	}
	tests := []struct {
		name   string
		build  func(h *hist) want
		faults []chaos.Fault
	}{
		{"a read after a write sees it", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.get("b", "k", 1, 20, 30)
			return want{}
		}, nil},
		{"a read concurrent with a write may see either value", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 40, 60, chaos.StatusOK)
			h.get("b", "k", 1, 45, 50)
			h.get("b", "k", 2, 45, 50)
			return want{}
		}, nil},
		{"a value overwritten within the calm bound is stale but allowed", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 40, 60, chaos.StatusOK)
			h.get("b", "k", 1, 120, 130)
			return want{stale: 1}
		}, nil},
		{"a value overwritten beyond the calm bound fails", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 40, 60, chaos.StatusOK)
			r := h.get("b", "k", 1, 500, 510)
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 1}
		}, nil},
		{"an instance never reads older than its own acknowledged write", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 40, 60, chaos.StatusOK)
			r := h.get("a", "k", 1, 70, 80)
			return want{violations: []string{"read-your-writes@" + itoa(r)}, stale: 1}
		}, nil},
		{"a value nobody wrote is a phantom", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			r := h.get("b", "k", 99, 20, 30)
			return want{violations: []string{"phantom@" + itoa(r)}}
		}, nil},
		{"a value written after the read completed is from the future", func(h *hist) want {
			r := h.get("b", "k", 1, 5, 8)
			h.set("a", "k", 1, 40, 50, chaos.StatusOK)
			return want{violations: []string{"future-read@" + itoa(r)}}
		}, nil},
		{"an unknown write may be read; one nobody read supersedes nothing", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 100, 0, chaos.StatusUnknown)
			h.set("a", "k", 3, 200, 0, chaos.StatusUnknown)
			h.get("b", "k", 3, 1000, 1010)
			h.get("b", "k", 1, 0, 5)
			h.get("c", "k", 1, 2000, 2010) // 2 may never have happened... but 3 did
			return want{violations: []string{"stale-read@6"}, stale: 1}
		}, nil},
		{"an unknown write nobody read supersedes nothing", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 100, 0, chaos.StatusUnknown)
			h.get("b", "k", 1, 2000, 2010)
			return want{}
		}, nil},
		{"an unknown write someone read supersedes from that read on", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 100, 0, chaos.StatusUnknown) // a late commit, say
			h.get("b", "k", 2, 1000, 1010)
			h.get("c", "k", 1, 1050, 1060)      // within the calm bound of the first read of 2
			r := h.get("c", "k", 1, 2000, 2010) // a cache still holding 1, long after
			h.get("a", "k", 1, 1100, 1110)      // no read-your-writes for a write that failed
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 3}
		}, nil},
		{"a failed read is not checked", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.add(chaos.Op{Proc: "b", Kind: chaos.KindGet, Reads: map[string]int64{"k": 77}, Invoke: 20 * ms, Complete: 30 * ms, Status: chaos.StatusFail})
			return want{}
		}, nil},
		{"absence: initial, after a delete, and stale after a write", func(h *hist) want {
			h.get("b", "k", 0, 1, 2)
			h.set("a", "k", 1, 10, 20, chaos.StatusOK)
			h.set("a", "k", 0, 200, 210, chaos.StatusOK)
			h.get("b", "k", 0, 300, 310)
			r := h.get("b", "k", 1, 1000, 1010)
			r2 := h.get("c", "k", 0, 100, 110) // absent was overwritten at 20: 80 ms, allowed
			_ = r2
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 2}
		}, nil},
		{"GetMany is checked element by element", func(h *hist) want {
			h.set("a", "k1", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k2", 2, 0, 10, chaos.StatusOK)
			h.set("a", "k2", 3, 20, 30, chaos.StatusOK)
			r := h.add(chaos.Op{Proc: "b", Kind: chaos.KindGetMany, Reads: map[string]int64{"k1": 1, "k2": 2, "k3": 0}, Invoke: 500 * ms, Complete: 510 * ms, Status: chaos.StatusOK})
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 1}
		}, nil},
		{"a Redis fault on the reader's link excuses values current since it began, until Detect", func(h *hist) want {
			h.set("a", "k", 0, 0, 10, chaos.StatusOK)
			h.set("a", "k", 1, 40, 60, chaos.StatusOK)
			h.set("a", "k", 2, 440, 450, chaos.StatusOK)
			h.get("b", "k", 1, 650, 660)       // overwritten at 450, during the fault, read before Detect + calm: excused
			r1 := h.get("b", "k", 0, 650, 660) // deleted at 60, before the fault: not excused
			r2 := h.get("b", "k", 1, 800, 810) // after fault start + Detect + calm (700), fault still on: L1 must be off
			return want{violations: []string{"stale-read@" + itoa(r1), "stale-read@" + itoa(r2)}, stale: 3}
		}, []chaos.Fault{{Kind: "redis-blackhole", Target: "b", Start: 400 * ms, End: 1400 * ms}}},
		{"a Redis fault on the overwriter's link excuses until Grace after it heals; one on a bystander does not", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 440, 450, chaos.StatusOK)
			h.get("b", "k", 1, 650, 660)
			r1 := h.get("b", "k", 1, 800, 810) // after fault end + grace (700)
			h.set("d", "j", 11, 0, 10, chaos.StatusOK)
			h.set("d", "j", 12, 440, 450, chaos.StatusOK)
			r2 := h.get("b", "j", 11, 650, 660)
			return want{violations: []string{"stale-read@" + itoa(r1), "stale-read@" + itoa(r2)}, stale: 3}
		}, []chaos.Fault{{Kind: "redis-blackhole", Target: "a", Start: 400 * ms, End: 600 * ms}, {Kind: "redis-latency", Target: "c", Start: 0, End: 1000 * ms}}},
		{"a PostgreSQL fault excuses no stale write-through read", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 440, 450, chaos.StatusOK)
			r := h.get("b", "k", 1, 650, 660)
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 1}
		}, []chaos.Fault{{Kind: "pg-blackhole", Target: "a", Start: 400 * ms, End: 600 * ms}, {Kind: "pg-pause", Target: "*", Start: 420 * ms, End: 500 * ms}}},
		{"a killed subscription excuses only until Detect or its end", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 405, 410, chaos.StatusOK)
			h.get("b", "k", 1, 450, 460)
			r := h.get("b", "k", 1, 650, 660)
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 2}
		}, []chaos.Fault{{Kind: "subscriber-kill", Target: "*", Start: 400 * ms, End: 401 * ms}}},
		{"a child's incarnations share its slot's faults", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 440, 450, chaos.StatusOK)
			h.get("c1.3", "k", 1, 650, 660)
			return want{stale: 1}
		}, []chaos.Fault{{Kind: "redis-blackhole", Target: "c1", Start: 400 * ms, End: 600 * ms}}},
		{"a Redis server fault hits every writer", func(h *hist) want {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 2, 440, 450, chaos.StatusOK)
			h.get("b", "k", 1, 650, 660)
			return want{stale: 1}
		}, []chaos.Fault{{Kind: "redis-pause", Target: "*", Start: 400 * ms, End: 600 * ms}}},
		{"write-behind grace grows with the fault", func(h *hist) want {
			h.add(chaos.Op{Proc: "a", Kind: chaos.KindSet, Schema: "wb", Writes: []chaos.Write{{Key: "w", Ver: 1}}, Invoke: 0, Complete: 10 * ms, Status: chaos.StatusOK})
			h.add(chaos.Op{Proc: "a", Kind: chaos.KindSet, Schema: "wb", Writes: []chaos.Write{{Key: "w", Ver: 2}}, Invoke: 440 * ms, Complete: 450 * ms, Status: chaos.StatusOK})
			h.add(chaos.Op{Proc: "b", Kind: chaos.KindGet, Schema: "wb", Reads: map[string]int64{"w": 1}, Invoke: 850 * ms, Complete: 860 * ms, Status: chaos.StatusOK})
			r := h.add(chaos.Op{Proc: "b", Kind: chaos.KindGet, Schema: "wb", Reads: map[string]int64{"w": 1}, Invoke: 950 * ms, Complete: 960 * ms, Status: chaos.StatusOK})
			return want{violations: []string{"stale-read@" + itoa(r)}, stale: 2}
		}, []chaos.Fault{{Kind: "pg-blackhole", Target: "a", Start: 400 * ms, End: 600 * ms}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hist
			w := tt.build(&h)
			rep := chaos.CheckReads(h.ops, tt.faults, testBounds)
			got := checks(rep.Violations)
			if strings.Join(got, ",") != strings.Join(w.violations, ",") {
				t.Errorf("violations = %v, want %v", got, w.violations)
				for _, v := range rep.Violations {
					t.Log(v)
				}
			}
			if rep.Stale != w.stale {
				t.Errorf("stale = %d, want %d", rep.Stale, w.stale)
			}
		})
	}
}

func TestCheckReadsDistribution(t *testing.T) {
	t.Parallel()
	var h hist
	h.set("a", "k", 1, 0, 10, chaos.StatusOK)
	h.set("a", "k", 2, 40, 60, chaos.StatusOK)
	for i := range int64(98) {
		h.get("b", "k", 2, 100+i, 101+i)
	}
	h.get("b", "k", 1, 80, 90)   // 20 ms stale
	h.get("b", "k", 1, 150, 155) // 90 ms stale
	rep := chaos.CheckReads(h.ops, nil, testBounds)
	if len(rep.Violations) != 0 {
		t.Fatalf("violations: %v", rep.Violations)
	}
	if rep.Elements != 100 || rep.Stale != 2 {
		t.Errorf("elements %d stale %d, want 100 and 2", rep.Elements, rep.Stale)
	}
	if rep.All.P50 != 0 || rep.All.Max != 90*time.Millisecond || rep.StaleOnly.P50 != 90*time.Millisecond {
		t.Errorf("all = %v, stale only = %v", rep.All, rep.StaleOnly)
	}
}

func TestCheckLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(h *hist) (final map[string]int64, want []string)
	}{
		{"the last acknowledged value survives", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("b", "k", 2, 20, 30, chaos.StatusOK)
			return map[string]int64{"k": 2}, nil
		}},
		{"concurrent acknowledged writes: either may win", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 30, chaos.StatusOK)
			h.set("b", "k", 2, 10, 20, chaos.StatusOK)
			return map[string]int64{"k": 1}, nil
		}},
		{"an older value after an acknowledged write is a lost write", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			w := h.set("b", "k", 2, 20, 30, chaos.StatusOK)
			return map[string]int64{"k": 1}, []string{"lost-write@" + itoa(w)}
		}},
		{"a write whose outcome is unknown may win, even over a later one", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 0, chaos.StatusUnknown)
			h.set("b", "k", 2, 20, 30, chaos.StatusOK)
			return map[string]int64{"k": 1}, nil
		}},
		{"a missing row after an acknowledged Set is lost", func(h *hist) (map[string]int64, []string) {
			w := h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			return map[string]int64{}, []string{"lost-write@" + itoa(w)}
		}},
		{"a missing row after an acknowledged Delete is right", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			h.set("a", "k", 0, 20, 30, chaos.StatusOK)
			return map[string]int64{}, nil
		}},
		{"a resurrected row after an acknowledged Delete is lost", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			d := h.set("a", "k", 0, 20, 30, chaos.StatusOK)
			return map[string]int64{"k": 1}, []string{"lost-write@" + itoa(d)}
		}},
		{"an unknown write that was read happened", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			w := h.set("a", "k", 2, 20, 0, chaos.StatusUnknown)
			h.get("b", "k", 2, 30, 40)
			return map[string]int64{"k": 1}, []string{"lost-write@" + itoa(w)}
		}},
		{"a value nobody wrote", func(h *hist) (map[string]int64, []string) {
			h.set("a", "k", 1, 0, 10, chaos.StatusOK)
			return map[string]int64{"k": 5}, []string{"phantom-final@0"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hist
			final, want := tt.build(&h)
			rep := chaos.CheckLost(h.ops, []string{"k"}, final)
			if got := checks(rep.Violations); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("violations = %v, want %v", got, want)
				for _, v := range rep.Violations {
					t.Log(v)
				}
			}
		})
	}
}

func TestCheckLinearizable(t *testing.T) {
	t.Parallel()
	reads := []chaos.Kind{chaos.KindGet, chaos.KindGetMany}
	tests := []struct {
		name   string
		build  func(h *hist)
		result string
		bad    string // key of the violation
	}{
		{"sequential writes and reads", func(h *hist) {
			h.get("l", "k", 0, 0, 5)
			h.set("l", "k", 1, 10, 20, chaos.StatusOK)
			h.get("l", "k", 1, 30, 40)
			h.set("l", "k", 0, 50, 60, chaos.StatusOK)
			h.get("l", "k", 0, 70, 80)
		}, "Ok", ""},
		{"a read that misses an acknowledged write", func(h *hist) {
			h.set("l", "k", 1, 0, 10, chaos.StatusOK)
			h.get("l", "j", 0, 0, 10)
			h.get("l", "k", 0, 20, 30)
		}, "Illegal", "k"},
		{"new then old while a write is in flight", func(h *hist) {
			h.set("l", "k", 1, 0, 10, chaos.StatusOK)
			h.set("l", "k", 2, 20, 100, chaos.StatusOK)
			h.get("l", "k", 2, 30, 40)
			h.get("l", "k", 1, 50, 60)
		}, "Illegal", "k"},
		{"an unknown write may apply late", func(h *hist) {
			h.set("l", "k", 1, 0, 0, chaos.StatusUnknown)
			h.get("l", "k", 0, 20, 30)
			h.get("l", "k", 1, 40, 50)
		}, "Ok", ""},
		{"an unknown write applies once", func(h *hist) {
			h.set("l", "k", 1, 0, 0, chaos.StatusUnknown)
			h.set("l", "k", 2, 5, 10, chaos.StatusOK)
			h.get("l", "k", 1, 20, 30)
			h.get("l", "k", 2, 40, 50)
		}, "Illegal", "k"},
		{"an unknown write nobody read is left out", func(h *hist) {
			h.set("l", "k", 1, 0, 10, chaos.StatusOK)
			h.set("l", "k", 2, 20, 0, chaos.StatusUnknown)
			h.get("l", "k", 1, 30, 40)
			h.set("l", "k", 3, 50, 60, chaos.StatusOK)
			h.get("l", "k", 3, 70, 80)
		}, "Ok", ""},
		{"GetMany elements and other instances' operations", func(h *hist) {
			h.set("l", "k", 1, 0, 10, chaos.StatusOK)
			h.add(chaos.Op{Proc: "l", Kind: chaos.KindGetMany, Reads: map[string]int64{"k": 1, "j": 0}, Invoke: 20 * ms, Complete: 30 * ms, Status: chaos.StatusOK})
			h.get("b", "k", 0, 40, 50) // another instance: not in this check
		}, "Ok", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hist
			tt.build(&h)
			rep := chaos.CheckLinearizable(h.ops, "l", []string{"k", "j"}, reads, 10*time.Second)
			if rep.Result != tt.result {
				t.Fatalf("result %s, want %s (%v)", rep.Result, tt.result, rep.Violations)
			}
			if tt.bad != "" && (len(rep.Violations) != 1 || rep.Violations[0].Key != tt.bad || rep.Violations[0].Op == 0) {
				t.Errorf("violations %v, want one on key %s naming an operation", rep.Violations, tt.bad)
			}
			if tt.bad == "" && len(rep.Violations) != 0 {
				t.Errorf("violations %v, want none", rep.Violations)
			}
		})
	}
}

// TestCheckLinearizableUnknownFails proves that a history porcupine cannot
// decide in time is a failure, never a pass.
func TestCheckLinearizableUnknownFails(t *testing.T) {
	t.Parallel()
	var h hist
	// Many mutually concurrent writes and reads of one key: the search space
	// explodes, and a 1 ms budget cannot conclude.
	for i := range int64(60) {
		h.set("l", "k", i+1, 0, 1000, chaos.StatusOK)
		h.get("l", "k", (i*7)%60+1, 1, 999)
	}
	h.get("l", "k", 12345, 2000, 2001) // and end illegally, so only exhausting the space could tell
	rep := chaos.CheckLinearizable(h.ops, "l", []string{"k"}, []chaos.Kind{chaos.KindGet}, time.Millisecond)
	if rep.Result == "Ok" || len(rep.Violations) == 0 {
		t.Fatalf("result %s with violations %v: an undecided history must fail", rep.Result, rep.Violations)
	}
	t.Logf("result %s: %v", rep.Result, rep.Violations[0])
}
