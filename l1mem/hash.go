package l1mem

import (
	"hash/maphash"
	"reflect"
	"unsafe"
)

// hasher returns a seeded 64-bit hash function for K. Strings and integer
// kinds (including named types over them) get specialised functions that
// never allocate; other comparable types use [maphash.Comparable].
// Integers are read at their real size: int, uint and uintptr are 4 bytes
// on 32-bit platforms, and reading 8 would hash whatever follows the key.
func hasher[K comparable]() func(K) uint64 {
	seed := maphash.MakeSeed()
	// A random 64-bit key for the integer mixer, drawn from the seed.
	ikey := maphash.String(seed, "l1mem") | 1
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.String:
		return func(k K) uint64 { return maphash.String(seed, *(*string)(unsafe.Pointer(&k))) }
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr,
		reflect.Int32, reflect.Uint32, reflect.Int16, reflect.Uint16,
		reflect.Int8, reflect.Uint8, reflect.Bool:
		switch t.Size() {
		case 8:
			return func(k K) uint64 { return mix64(*(*uint64)(unsafe.Pointer(&k)) ^ ikey) }
		case 4:
			return func(k K) uint64 { return mix64(uint64(*(*uint32)(unsafe.Pointer(&k))) ^ ikey) }
		case 2:
			return func(k K) uint64 { return mix64(uint64(*(*uint16)(unsafe.Pointer(&k))) ^ ikey) }
		case 1:
			return func(k K) uint64 { return mix64(uint64(*(*uint8)(unsafe.Pointer(&k))) ^ ikey) }
		}
	}
	return func(k K) uint64 { return maphash.Comparable(seed, k) }
}

// mix64 is the finaliser of MurmurHash3: every input bit affects every
// output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
