package codectest

import (
	"math"
	"testing"
	"time"
)

// The suite is only as strict as its comparator: each pair here must differ.
func TestDiffCatchesDifferences(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	one := int64(1)
	tests := []struct {
		name      string
		want, got any
	}{
		{"nil vs empty slice", []string(nil), []string{}},
		{"nil vs empty map", map[string]int64(nil), map[string]int64{}},
		{"nil vs empty bytes", Composite{Bytes: nil}, Composite{Bytes: []byte{}}},
		{"negative zero", math.Copysign(0, -1), 0.0},
		{"float bits", float32(0.1), float32(0.100001)},
		{"instant", at, at.Add(time.Nanosecond)},
		{"monotonic kept", time.Now().Round(0), time.Now()},
		{"nested field", Composite{Inner: Inner{Tags: []string{"a"}}}, Composite{Inner: Inner{Tags: []string{"b"}}}},
		{"pointer nil", Composite{IntPtr: &one}, Composite{}},
		{"map value", map[string]Inner{"k": {Name: "a"}}, map[string]Inner{"k": {Name: "b"}}},
		{"map key", map[string]int64{"a": 1}, map[string]int64{"b": 1}},
		{"type", int64(1), int32(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if d := diff(tt.want, tt.got); d == "" {
				t.Errorf("diff(%#v, %#v) found no difference", tt.want, tt.got)
			}
		})
	}
	loc := time.FixedZone("X", 3600)
	if d := diff(at, at.In(loc)); d != "" {
		t.Errorf("the same instant in another location must compare equal, got %s", d)
	}
	if d := diff(math.NaN(), math.NaN()); d != "" {
		t.Errorf("NaN must equal NaN for round-trip purposes, got %s", d)
	}
}
