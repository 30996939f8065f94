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
	if off := unsafe.Offsetof(s.index); off%64 != 0 || unsafe.Offsetof(s.shardState)-off != 64 {
		t.Fatalf("the readers' line starts at %d and ends at %d", off, unsafe.Offsetof(s.shardState))
	}
	if n, m := unsafe.Sizeof(shard[string, int]{}), unsafe.Sizeof(shard[[3]int, struct{}]{}); n != m {
		t.Fatalf("shard size depends on K, V: %d vs %d", n, m)
	}
}

// TestEntryKeepsItsSize: the LRU read mark shares a word with the
// remembered-miss flag and the overwrite stamp, so an entry of a string
// key and a 16-byte value stays 48 bytes on 64-bit platforms (a separate
// mark made it 56: more of the slab's entries straddled two cache lines,
// and a Get then touched both).
func TestEntryKeepsItsSize(t *testing.T) {
	type value struct {
		ID      int64
		Version int32
		Flags   uint32
	}
	want := uintptr(48)
	if unsafe.Sizeof(uintptr(0)) == 4 {
		want = 40 // 8-byte string header, 16-byte value, expires, gen, mark
	}
	if n := unsafe.Sizeof(entry[string, value]{}); n != want {
		t.Fatalf("sizeof(entry[string, value]) = %d, want %d", n, want)
	}
}
