package main

import "testing"

// TestReadYourWritesCheck: a read is a violation only when it returns a
// write acknowledged before some other write that started after it and
// was itself acknowledged before the read began; overlapping writes and
// writes still in flight never count.
func TestReadYourWritesCheck(t *testing.T) {
	t.Parallel()
	// Writes of one key (start, ack): 1 (0, 10), 2 (20, 30), 3 (25, 50) —
	// 2 and 3 overlap — and 4 (60, 70).
	w := &writes{}
	for _, x := range []struct{ ver, start, ack int64 }{{1, 0, 10}, {2, 20, 30}, {3, 25, 50}, {4, 60, 70}} {
		w.mu.Lock()
		start := x.start
		if n := len(w.maxStart); n > 0 && w.maxStart[n-1] > start {
			start = w.maxStart[n-1]
		}
		w.ver, w.ack, w.maxStart = append(w.ver, x.ver), append(w.ack, x.ack), append(w.maxStart, start)
		w.mu.Unlock()
	}
	tests := []struct {
		name           string
		readStart, got int64
		violation      bool
		checked        bool
	}{
		{"before any write: the loaded value", 5, 0, false, true},
		{"after write 1: the loaded value", 15, 0, true, true},
		{"after write 1: write 1", 15, 1, false, true},
		{"after write 2: write 1", 40, 1, true, true},
		{"after write 2: write 2", 40, 2, false, true},
		{"after 2 and 3 (overlapping): write 2", 55, 2, false, true},
		{"after 2 and 3 (overlapping): write 3", 55, 3, false, true},
		{"after write 4: write 3", 80, 3, true, true},
		{"after write 4: a write still in flight", 80, 9, false, false},
	}
	for _, tt := range tests {
		violation, checked := w.judge(tt.readStart, tt.got)
		if violation != tt.violation || checked != tt.checked {
			t.Errorf("%s: violation %v, checked %v; want %v, %v", tt.name, violation, checked, tt.violation, tt.checked)
		}
	}
}
