package l1mem

import "github.com/AndrewDonelson/strata/l1mem/internal/ilist"

// lru is least-recently-used order: one queue, hits move to the head, the
// victim is the tail. A hit on an entry moved to the head fewer than skip
// queue updates ago (see skipFraction) leaves the queue alone: the entry
// is still among the newest skip entries, far from eviction. Each node's
// Meta keeps the update count when it last moved to the head. With skip
// 0 the order is exact.
type lru struct {
	nodes []ilist.Node
	q     ilist.List
	tick  uint32 // queue updates: inserts and moves to the head
	skip  uint32
}

func newLRU() *lru {
	p := &lru{}
	p.q.Init()
	return p
}

func (p *lru) grow(n int)     { p.nodes = growNodes(p.nodes, n) }
func (p *lru) remove(i int32) { p.q.Remove(p.nodes, i) }
func (p *lru) reset()         { p.q.Init() }

func (p *lru) add(i int32, h uint32) {
	n := &p.nodes[i]
	n.Hash = h
	n.Meta = p.tick - p.skip // the first hit moves it
	p.tick++
	p.q.PushFront(p.nodes, i)
}

// hit moves i to the head unless it got there within the last skip
// updates. Drains call it for reads that several read rings recorded,
// and for reads a ring recorded before its marks aged; skipping them here
// saves the writes to up to five nodes, lines that the other processors'
// drains of this shard would otherwise have to fetch back.
func (p *lru) hit(i int32) {
	n := &p.nodes[i]
	if p.tick-n.Meta < p.skip {
		return
	}
	n.Meta = p.tick
	p.tick++
	p.q.MoveToFront(p.nodes, i)
}

func (p *lru) victim() int32 {
	i := p.q.Back()
	if i != ilist.Nil {
		p.q.Remove(p.nodes, i)
	}
	return i
}

func (p *lru) admitsFirst() bool { return false }

func (p *lru) tag(i int32) uint32 { return p.nodes[i].Hash }
