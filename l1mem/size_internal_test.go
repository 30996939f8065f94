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
	if off := unsafe.Offsetof(readLock{}.stripes); off%64 != 0 {
		t.Fatalf("stripes start at offset %d", off)
	}
}

func TestShardLayout(t *testing.T) {
	if n := unsafe.Sizeof(shard[string, int]{}); n%64 != 0 {
		t.Fatalf("sizeof(shard) = %d, not a multiple of 64", n)
	}
	var s shard[string, int]
	if off := unsafe.Offsetof(s.index); off%64 != 0 || unsafe.Offsetof(s.pol)-off != 64 {
		t.Fatalf("the readers' line starts at %d and ends at %d", off, unsafe.Offsetof(s.pol))
	}
	if n, m := unsafe.Sizeof(shard[string, int]{}), unsafe.Sizeof(shard[[3]int, struct{}]{}); n != m {
		t.Fatalf("shard size depends on K, V: %d vs %d", n, m)
	}
}
