package l1mem

import "github.com/AndrewDonelson/strata/l1mem/internal/ilist"

// lru is least-recently-used order: one queue, the victim is the tail.
//
// A bounded shard runs it as CLOCK (second chance): reads do not move
// entries, they set the entry's ref mark (see shard.clock), and victim
// gives each marked entry it meets at the tail another round at the head,
// clearing the mark, before it evicts the first unmarked one. The
// referenced function reports and clears that mark. An entry read since
// it last reached the tail is therefore never evicted while an unread one
// is left, which is what LRU keeps in the part of the queue that matters;
// the order among the entries read meanwhile is lost. A read then costs a
// load of a line the reader fetched anyway (and a store once per round),
// not a record replayed into the queue's nodes.
//
// Without referenced (exact mode, for tests) reads reach hit through the
// shard's read rings, and hit moves the entry to the head.
type lru struct {
	nodes      []ilist.Node
	q          ilist.List
	referenced func(i int32) bool
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
	p.nodes[i].Hash = h
	p.q.PushFront(p.nodes, i)
}

// hit moves i to the head (exact mode only).
func (p *lru) hit(i int32) { p.q.MoveToFront(p.nodes, i) }

// victim unlinks and returns the tail, after moving marked tail entries
// to the head (in clock mode). Each move clears a mark, so the sweep ends
// within one pass of the queue.
func (p *lru) victim() int32 {
	for {
		i := p.q.Back()
		if i == ilist.Nil {
			return i
		}
		if p.referenced != nil && p.referenced(i) && p.q.Len > 1 {
			p.q.MoveToFront(p.nodes, i)
			continue
		}
		p.q.Remove(p.nodes, i)
		return i
	}
}

func (p *lru) admitsFirst() bool { return false }

func (p *lru) tag(i int32) uint32 { return p.nodes[i].Hash }
