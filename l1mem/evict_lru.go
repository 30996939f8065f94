package l1mem

import "github.com/AndrewDonelson/strata/l1mem/internal/ilist"

// lru is exact least-recently-used order: one queue, hits move to the head,
// the victim is the tail.
type lru struct {
	nodes []ilist.Node
	q     ilist.List
}

func newLRU() *lru {
	p := &lru{}
	p.q.Init()
	return p
}

func (p *lru) grow(n int)            { p.nodes = growNodes(p.nodes, n) }
func (p *lru) add(i int32, h uint32) { p.nodes[i].Hash = h; p.q.PushFront(p.nodes, i) }
func (p *lru) hit(i int32)           { p.q.MoveToFront(p.nodes, i) }
func (p *lru) remove(i int32)        { p.q.Remove(p.nodes, i) }
func (p *lru) reset()                { p.q.Init() }

func (p *lru) victim() int32 {
	i := p.q.Back()
	if i != ilist.Nil {
		p.q.Remove(p.nodes, i)
	}
	return i
}

func (p *lru) admitsFirst() bool { return false }

func (p *lru) tag(i int32) uint32 { return p.nodes[i].Hash }
