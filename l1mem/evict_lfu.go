package l1mem

import (
	"math/bits"

	"github.com/AndrewDonelson/strata/l1mem/internal/ilist"
)

// lfuLevels is the number of distinct use counts LFU tells apart; counts
// saturate at this value.
const lfuLevels = 64

// lfu keeps one LRU queue per use count (1..64) and a bitmap of the
// non-empty queues, so every operation is O(1): the victim is the tail of
// the lowest non-empty queue.
type lfu struct {
	nodes   []ilist.Node
	buckets [lfuLevels]ilist.List
	used    uint64 // bit b set when buckets[b] is non-empty
}

func newLFU() *lfu {
	p := &lfu{}
	p.reset()
	return p
}

func (p *lfu) grow(n int) { p.nodes = growNodes(p.nodes, n) }

func (p *lfu) reset() {
	for b := range p.buckets {
		p.buckets[b].Init()
	}
	p.used = 0
}

func (p *lfu) push(i int32, b uint32) {
	p.nodes[i].Meta = b
	p.buckets[b].PushFront(p.nodes, i)
	p.used |= 1 << b
}

func (p *lfu) remove(i int32) {
	b := p.nodes[i].Meta
	p.buckets[b].Remove(p.nodes, i)
	if p.buckets[b].Len == 0 {
		p.used &^= 1 << b
	}
}

func (p *lfu) add(i int32, h uint32) {
	p.nodes[i].Hash = h
	p.push(i, 0)
}

func (p *lfu) hit(i int32) {
	b := p.nodes[i].Meta
	if b == lfuLevels-1 {
		p.buckets[b].MoveToFront(p.nodes, i)
		return
	}
	p.remove(i)
	p.push(i, b+1)
}

func (p *lfu) victim() int32 {
	if p.used == 0 {
		return ilist.Nil
	}
	b := bits.TrailingZeros64(p.used)
	i := p.buckets[b].Back()
	p.remove(i)
	return i
}

func (p *lfu) admitsFirst() bool { return false }

func (p *lfu) tag(i int32) uint32 { return p.nodes[i].Hash }
