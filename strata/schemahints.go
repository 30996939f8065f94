package strata

import (
	"sync/atomic"
	"unsafe"
)

// schemaHints resolves a schema name without hashing it, for the L1 hit
// path (issue 12): a slot picked by the address and length of the name's
// bytes holds the schema a name at that address resolved to, with that
// name. A schema name is almost always a constant, whose bytes do not move,
// so the slot is found again and checked by comparing the two addresses;
// a name at another address that shares the slot is compared byte by byte,
// and any other name misses and is looked up in the map as before.
//
// A slot is written once, when it is empty, so hits never write a shared
// cache line and names built at run time cannot make slots bounce between
// cores. A hit is always right: the name is compared, and a registered
// name's state never changes (schemas are added, never replaced).
type schemaHints struct {
	slot [schemaHintSlots]atomic.Pointer[schemaHint]
}

// schemaHint is a filled slot: a schema and the name it was resolved by,
// as the caller passed it (for a constant, the constant's own bytes).
type schemaHint struct {
	name string
	st   *schemaState
}

const schemaHintSlots = 64 // a power of two

func schemaHintOf(name string) uintptr {
	p := uintptr(unsafe.Pointer(unsafe.StringData(name)))
	return (p>>3 ^ p>>9 ^ uintptr(len(name))) & (schemaHintSlots - 1)
}

// lookup returns the schema named name if its slot holds it, else nil.
func (h *schemaHints) lookup(name string) *schemaState {
	e := h.slot[schemaHintOf(name)].Load()
	if e == nil || len(e.name) != len(name) {
		return nil
	}
	if unsafe.StringData(e.name) == unsafe.StringData(name) || e.name == name {
		return e.st // the same bytes, with no call to compare them; else equal ones
	}
	return nil
}

// remember fills name's slot with st if the slot is empty.
func (h *schemaHints) remember(name string, st *schemaState) {
	if s := &h.slot[schemaHintOf(name)]; s.Load() == nil {
		s.CompareAndSwap(nil, &schemaHint{name: name, st: st})
	}
}
