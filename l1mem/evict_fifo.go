package l1mem

import "github.com/AndrewDonelson/strata/l1mem/internal/ilist"

// fifo evicts in insertion order; hits change nothing, so readers never
// record them.
type fifo struct {
	nodes []ilist.Node
	q     ilist.List
}

func newFIFO() *fifo {
	p := &fifo{}
	p.q.Init()
	return p
}

func (p *fifo) grow(n int)            { p.nodes = growNodes(p.nodes, n) }
func (p *fifo) add(i int32, h uint32) { p.nodes[i].Hash = h; p.q.PushFront(p.nodes, i) }
func (p *fifo) hit(int32)             {}
func (p *fifo) remove(i int32)        { p.q.Remove(p.nodes, i) }
func (p *fifo) reset()                { p.q.Init() }

func (p *fifo) victim() int32 {
	i := p.q.Back()
	if i != ilist.Nil {
		p.q.Remove(p.nodes, i)
	}
	return i
}

func (p *fifo) admitsFirst() bool { return false }

func (p *fifo) tag(i int32) uint32 { return p.nodes[i].Hash }
