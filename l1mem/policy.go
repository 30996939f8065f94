package l1mem

import "github.com/AndrewDonelson/strata/l1mem/internal/ilist"

// policy orders the slots of one shard for eviction. Slots are identified by
// their index in the shard's entry slab. Every method runs under the shard's
// exclusive lock.
type policy interface {
	// grow makes room for slot indexes below n.
	grow(n int)
	// add records a newly inserted slot with the key fingerprint h.
	add(i int32, h uint32)
	// hit records a use of slot i (a read drained from the read buffer, or
	// an overwrite).
	hit(i int32)
	// remove forgets slot i (deleted, expired or cleared).
	remove(i int32)
	// victim picks a slot to evict, unlinks it and returns it; ilist.Nil
	// when the policy holds nothing.
	victim() int32
	// tag returns the fingerprint given to add for slot i.
	tag(i int32) uint32
	// reset forgets everything.
	reset()
	// admitsFirst reports whether a new entry joins the policy before the
	// victim is chosen (so the newcomer may itself lose, as in TinyLFU)
	// rather than after room was made for it.
	admitsFirst() bool
}

// newPolicy builds the policy p for a shard of the given capacity. An
// unbounded shard never evicts, so it gets a policy that does nothing.
func newPolicy(p EvictionPolicy, capacity int) (pol policy, tracksHits bool) {
	if capacity == 0 {
		return &nopPolicy{}, false
	}
	switch p {
	case EvictLFU:
		return newLFU(), true
	case EvictFIFO:
		return newFIFO(), false
	case EvictTinyLFU:
		return newTinyLFU(capacity), true
	default:
		return newLRU(), true
	}
}

// growNodes extends n to at least size nodes.
func growNodes(n []ilist.Node, size int) []ilist.Node {
	if size <= len(n) {
		return n
	}
	if size <= cap(n) {
		return n[:size]
	}
	m := make([]ilist.Node, size)
	copy(m, n)
	return m
}

// nopPolicy serves unbounded shards: it orders nothing and only keeps the
// fingerprints.
type nopPolicy struct{ tags []uint32 }

func (p *nopPolicy) grow(n int) {
	if n > len(p.tags) {
		p.tags = append(p.tags, make([]uint32, n-len(p.tags))...)
	}
}
func (p *nopPolicy) add(i int32, h uint32) { p.tags[i] = h }
func (p *nopPolicy) hit(int32)             {}
func (p *nopPolicy) remove(int32)          {}
func (p *nopPolicy) victim() int32         { return ilist.Nil }
func (p *nopPolicy) tag(i int32) uint32    { return p.tags[i] }
func (p *nopPolicy) reset()                {}
func (p *nopPolicy) admitsFirst() bool     { return false }
