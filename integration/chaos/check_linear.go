package chaos

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// regInput is one key-level operation on a register: a write of ver (0
// deletes), or a read.
type regInput struct {
	key   string
	write bool
	ver   int64
}

// registerModel is a register per key (porcupine partitions the history by
// key); its state is the version held, 0 for absent.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(regInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out
	},
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.write {
			return true, in.ver
		}
		return output.(int64) == state.(int64), state
	},
	Hash: func(state any) uint64 { return uint64(state.(int64)) },
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.write {
			return fmt.Sprintf("%s := %d", in.key, in.ver)
		}
		return fmt.Sprintf("%s → %d", in.key, output.(int64))
	},
	DescribeOperationMetadata: func(info any) string { return fmt.Sprintf("op %d", info.(int64)) },
}

// LinearReport is the result of CheckLinearizable.
type LinearReport struct {
	Proc       string `json:"proc"`
	Keys       int    `json:"keys"`
	Operations int    `json:"operations"` // key-level operations checked
	// DroppedUnknown counts writes of unknown outcome left out because no
	// read returned their version.
	DroppedUnknown int           `json:"dropped_unknown"`
	Result         string        `json:"result"` // Ok, Illegal or Unknown
	Took           time.Duration `json:"took_ns"`
	Violations     []Violation   `json:"violations"`
}

// CheckLinearizable checks with porcupine that the operations proc made on
// keys (which no other instance writes) form a linearizable history of one
// register per key. Writes whose outcome is unknown may take effect at any
// time after their invocation, or never. Reads are those of kinds (Get and
// GetMany, say); elements of other keys are ignored. Unknown — the checker
// could not conclude within timeout — is reported as such, and is a failure.
func CheckLinearizable(ops []Op, proc string, keys []string, kinds []Kind, timeout time.Duration) LinearReport {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	readKind := map[Kind]bool{}
	for _, k := range kinds {
		readKind[k] = true
	}
	// A write whose outcome is unknown took effect, if it did, before the
	// first read (by any instance) that returned its version completed; one
	// whose version nobody read can be left out — in any linearization it
	// is overwritten before anything reads it, or it never happened. (As
	// etcd's robustness tests do; without this, every unknown write is
	// concurrent with the rest of the history and the search explodes.)
	// An unknown delete writes "absent", which reads cannot attribute: it
	// stays, concurrent with everything after it.
	seen := map[int64]int64{} // version → earliest completion of a read of it
	for i := range ops {
		op := &ops[i]
		if op.Kind.IsWrite() || op.Status != StatusOK {
			continue
		}
		for k, v := range op.Reads {
			if want[k] && v != 0 {
				if t, ok := seen[v]; !ok || op.Complete < t {
					seen[v] = op.Complete
				}
			}
		}
	}
	var hist []porcupine.Operation
	dropped := 0
	add := func(op *Op, in regInput, out int64) {
		ret := op.Complete
		if ret == Infinity {
			ret = math.MaxInt64
			if in.write && in.ver != 0 {
				t, ok := seen[in.ver]
				if !ok {
					dropped++
					return
				}
				ret = max(t, op.Invoke)
			}
		}
		hist = append(hist, porcupine.Operation{ClientId: op.Client, Input: in, Output: out, Call: op.Invoke, Return: ret, Metadata: op.ID})
	}
	for i := range ops {
		op := &ops[i]
		if op.Proc != proc {
			continue
		}
		switch {
		case op.Kind.IsWrite():
			if op.Status == StatusFail {
				continue
			}
			for _, w := range op.Writes {
				if want[w.Key] {
					add(op, regInput{key: w.Key, write: true, ver: w.Ver}, 0)
				}
			}
		case readKind[op.Kind] && op.Status == StatusOK:
			for k, v := range op.Reads {
				if want[k] {
					add(op, regInput{key: k}, v)
				}
			}
		}
	}
	rep := LinearReport{Proc: proc, Keys: len(keys), Operations: len(hist), DroppedUnknown: dropped}
	start := time.Now()
	res, _ := porcupine.CheckOperationsVerbose(registerModel, hist, timeout)
	rep.Took = time.Since(start)
	rep.Result = string(res)
	switch res {
	case porcupine.Ok:
		return rep
	case porcupine.Unknown:
		rep.Violations = append(rep.Violations, Violation{Check: "linearizability", Proc: proc,
			Detail: fmt.Sprintf("porcupine could not conclude within %v over %d operations (Unknown is a failure, never a pass)", timeout, len(hist))})
		return rep
	}
	// Illegal: find the keys and the first operations that cannot be placed.
	for _, part := range registerModel.Partition(hist) {
		r, info := porcupine.CheckOperationsVerbose(registerModel, part, timeout)
		if r == porcupine.Ok {
			continue
		}
		key := part[0].Input.(regInput).key
		rep.Violations = append(rep.Violations, illegalKey(key, proc, part, r, info))
	}
	return rep
}

// illegalKey describes why one key's history is not linearizable: the
// operations outside its longest linearizable prefix, earliest first.
func illegalKey(key, proc string, part []porcupine.Operation, r porcupine.CheckResult, info porcupine.LinearizationInfo) Violation {
	v := Violation{Check: "linearizability", Proc: proc, Key: key}
	var longest []porcupine.Operation
	for _, ps := range info.PartialLinearizationsOperations() {
		for _, p := range ps {
			if len(p) > len(longest) {
				longest = p
			}
		}
	}
	in := map[int64]bool{}
	for _, op := range longest {
		in[op.Metadata.(int64)] = true
	}
	var out []porcupine.Operation
	for _, op := range part {
		if !in[op.Metadata.(int64)] {
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Call < out[j].Call })
	for i, op := range out {
		if i == 5 {
			break
		}
		v.Others = append(v.Others, op.Metadata.(int64))
	}
	if len(out) > 0 {
		v.Op = out[0].Metadata.(int64)
		first := out[0]
		v.Detail = fmt.Sprintf("%s: %d of %d operations linearize; the first that cannot is op %d (%s, called at %v, returned at %v)",
			r, len(longest), len(part), v.Op, registerModel.DescribeOperation(first.Input, first.Output),
			time.Duration(first.Call), time.Duration(first.Return))
		if n := len(longest); n > 0 {
			last := longest[n-1]
			v.Detail += fmt.Sprintf("; the last placed was op %d (%s)", last.Metadata.(int64), registerModel.DescribeOperation(last.Input, last.Output))
		}
	} else {
		v.Detail = fmt.Sprintf("%s over %d operations", r, len(part))
	}
	return v
}
