package l1mem

import (
	"testing"
	"unsafe"
)

// The read path relies on stripes and the lock header filling whole cache
// lines, so that readers on different processors never write one line.
func TestStripeLayout(t *testing.T) {
	if n := unsafe.Sizeof(stripe{}); n%64 != 0 {
		t.Fatalf("sizeof(stripe) = %d, not a multiple of 64", n)
	}
	var st stripe
	if a, b := unsafe.Offsetof(st.tail), unsafe.Offsetof(st.buf); a != 64 || b != 128 {
		t.Fatalf("tail at %d, buf at %d: want the readers' line, the drain's line, then the ring", a, b)
	}
	if n := unsafe.Sizeof(readerSlot{}); n != 64 {
		t.Fatalf("sizeof(readerSlot) = %d, want one cache line", n)
	}
	var l readLock
	if a, b := unsafe.Offsetof(l.slots), unsafe.Offsetof(l.stripes); a != 64 || b%64 != 0 {
		t.Fatalf("slots start at offset %d, stripes at %d", a, b)
	}
}

func TestShardLayout(t *testing.T) {
	if n := unsafe.Sizeof(shard[string, int]{}); n%64 != 0 {
		t.Fatalf("sizeof(shard) = %d, not a multiple of 64", n)
	}
	var s shard[string, int]
	if off := unsafe.Offsetof(s.index); off%64 != 0 || unsafe.Offsetof(s.polMu)-off != 64 {
		t.Fatalf("the readers' line starts at %d and ends at %d", off, unsafe.Offsetof(s.polMu))
	}
	if n, m := unsafe.Sizeof(shard[string, int]{}), unsafe.Sizeof(shard[[3]int, struct{}]{}); n != m {
		t.Fatalf("shard size depends on K, V: %d vs %d", n, m)
	}
}
