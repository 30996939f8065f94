package sketch

import "testing"

func TestSketchCountsAndAges(t *testing.T) {
	s := New(1000)
	for i := range 12 {
		for range i {
			s.Increment(uint32(i) * 0x9e3779b9)
		}
	}
	for i := range 12 {
		if got := s.Frequency(uint32(i) * 0x9e3779b9); got < i {
			t.Fatalf("Frequency(%d) = %d, want at least %d", i, got, i)
		}
	}
	if got := s.Frequency(0xdeadbeef); got > 2 {
		t.Fatalf("unseen key has frequency %d", got)
	}
	for range 20 {
		s.Increment(7)
	}
	if s.Frequency(7) != 15 {
		t.Fatalf("counter did not saturate at 15: %d", s.Frequency(7))
	}
	for i := range 10_000 { // past sampleSize: everything is halved
		s.Increment(uint32(i) + 1000)
	}
	if got := s.Frequency(7); got > 8 {
		t.Fatalf("counter did not age: %d", got)
	}
	s.Clear()
	if s.Frequency(7) != 0 {
		t.Fatal("Clear kept counts")
	}
}
