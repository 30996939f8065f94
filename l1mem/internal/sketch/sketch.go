// Package sketch is a count-min sketch of 4-bit counters with periodic aging,
// the frequency estimator behind TinyLFU admission.
package sketch

import "math/bits"

const resetMask = 0x7777777777777777

// Sketch estimates how often a 32-bit fingerprint was seen recently. The
// table is split into 64-byte blocks of eight words; a fingerprint picks
// one block and, in it, one 4-bit counter in each of four word pairs, so an
// update touches a single cache line. The estimate is the smallest of the
// four counters. After sampleSize increments every counter is halved, so
// old popularity fades.
type Sketch struct {
	table      []uint64
	blockMask  uint32
	additions  int
	sampleSize int
}

// New sizes a sketch for a cache that holds capacity entries: one word
// (16 counters) per entry, rounded up to a power of two.
func New(capacity int) *Sketch {
	if capacity < 1 {
		capacity = 1
	}
	n := 1 << bits.Len(uint(capacity-1))
	if n < 8 {
		n = 8
	}
	return &Sketch{
		table:      make([]uint64, n),
		blockMask:  uint32(n/8 - 1),
		sampleSize: 10 * max(capacity, 8),
	}
}

// slot returns the word index and bit shift of counter i for fingerprint h.
func (s *Sketch) slot(h uint32, i int) (uint32, uint) {
	x := h * 0x9e3779b9
	x ^= x >> 16
	block := (x & s.blockMask) << 3
	// Bits 16..31 of a second mix choose, per counter, the word in its
	// pair (1 bit) and the nibble in the word (4 bits).
	y := (h ^ 0x85ebca6b) * 0xc2b2ae35
	y ^= y >> 15
	sel := y >> (uint(i) * 5)
	return block + uint32(i)*2 + (sel & 1), uint((sel>>1)&15) << 2
}

// Increment records one occurrence of h.
func (s *Sketch) Increment(h uint32) {
	added := false
	for i := range 4 {
		w, sh := s.slot(h, i)
		if (s.table[w]>>sh)&0xf < 0xf {
			s.table[w] += 1 << sh
			added = true
		}
	}
	if added {
		s.additions++
		if s.additions >= s.sampleSize {
			s.reset()
		}
	}
}

// Frequency returns the estimated count of h, at most 15.
func (s *Sketch) Frequency(h uint32) int {
	f := 0xf
	for i := range 4 {
		w, sh := s.slot(h, i)
		f = min(f, int((s.table[w]>>sh)&0xf))
	}
	return f
}

func (s *Sketch) reset() {
	for i := range s.table {
		s.table[i] = (s.table[i] >> 1) & resetMask
	}
	s.additions /= 2
}

// Clear forgets every count.
func (s *Sketch) Clear() {
	clear(s.table)
	s.additions = 0
}
