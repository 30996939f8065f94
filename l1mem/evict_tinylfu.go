package l1mem

import (
	"github.com/AndrewDonelson/strata/l1mem/internal/ilist"
	"github.com/AndrewDonelson/strata/l1mem/internal/sketch"
)

// Segments of W-TinyLFU, kept in ilist.Node.Meta.
const (
	segWindow uint32 = iota
	segProbation
	segProtected
)

// tinyLFU is W-TinyLFU (Einziger, Friedman, Manes): new entries enter a
// small LRU window; an entry pushed out of the window competes with the
// main space's victim, and the one the frequency sketch has seen more
// often stays. The main space is a segmented LRU: entries hit while on
// probation move to the protected segment (80% of the main space).
type tinyLFU struct {
	nodes                        []ilist.Node
	window, probation, protected ilist.List
	windowMax, mainMax, protMax  int
	sketch                       *sketch.Sketch
}

func newTinyLFU(capacity int) *tinyLFU {
	w := max(1, capacity/100)
	if capacity == 1 {
		w = 1
	}
	p := &tinyLFU{
		windowMax: w,
		mainMax:   capacity - w,
		sketch:    sketch.New(capacity),
	}
	p.protMax = p.mainMax * 8 / 10
	p.reset()
	return p
}

func (p *tinyLFU) grow(n int) { p.nodes = growNodes(p.nodes, n) }

func (p *tinyLFU) reset() {
	p.window.Init()
	p.probation.Init()
	p.protected.Init()
	p.sketch.Clear()
}

func (p *tinyLFU) list(seg uint32) *ilist.List {
	switch seg {
	case segWindow:
		return &p.window
	case segProbation:
		return &p.probation
	}
	return &p.protected
}

func (p *tinyLFU) mainLen() int { return p.probation.Len + p.protected.Len }

func (p *tinyLFU) add(i int32, h uint32) {
	p.nodes[i].Hash = h
	p.nodes[i].Meta = segWindow
	p.sketch.Increment(h)
	p.window.PushFront(p.nodes, i)
	// While the main space has room, the window overflows into it freely.
	for p.window.Len > p.windowMax && p.mainLen() < p.mainMax {
		c := p.window.Back()
		p.window.Remove(p.nodes, c)
		p.nodes[c].Meta = segProbation
		p.probation.PushFront(p.nodes, c)
	}
}

func (p *tinyLFU) hit(i int32) {
	n := &p.nodes[i]
	p.sketch.Increment(n.Hash)
	switch n.Meta {
	case segWindow:
		p.window.MoveToFront(p.nodes, i)
	case segProbation:
		p.probation.Remove(p.nodes, i)
		n.Meta = segProtected
		p.protected.PushFront(p.nodes, i)
		for p.protected.Len > p.protMax {
			d := p.protected.Back()
			p.protected.Remove(p.nodes, d)
			p.nodes[d].Meta = segProbation
			p.probation.PushFront(p.nodes, d)
		}
	default:
		p.protected.MoveToFront(p.nodes, i)
	}
}

func (p *tinyLFU) remove(i int32) { p.list(p.nodes[i].Meta).Remove(p.nodes, i) }

// victim runs the admission duel between the window's oldest entry and the
// main space's victim and returns the loser.
func (p *tinyLFU) victim() int32 {
	cand := p.window.Back()
	if cand == ilist.Nil || p.window.Len <= p.windowMax {
		// Nothing waits for admission: evict from the main space, else
		// from the window.
		if v := p.mainVictim(); v != ilist.Nil {
			p.remove(v)
			return v
		}
		if cand != ilist.Nil {
			p.window.Remove(p.nodes, cand)
		}
		return cand
	}
	p.window.Remove(p.nodes, cand)
	v := p.mainVictim()
	if v == ilist.Nil {
		return cand
	}
	if p.sketch.Frequency(p.nodes[cand].Hash) > p.sketch.Frequency(p.nodes[v].Hash) {
		p.remove(v)
		p.nodes[cand].Meta = segProbation
		p.probation.PushFront(p.nodes, cand)
		return v
	}
	return cand
}

func (p *tinyLFU) mainVictim() int32 {
	if v := p.probation.Back(); v != ilist.Nil {
		return v
	}
	return p.protected.Back()
}

func (p *tinyLFU) admitsFirst() bool { return true }

func (p *tinyLFU) tag(i int32) uint32 { return p.nodes[i].Hash }
