// Package ilist holds intrusive doubly linked lists whose links are int32
// indexes into a shared slice of nodes rather than pointers.
//
// Index links halve the size of a link on 64-bit machines and give the
// garbage collector nothing to scan. Every eviction policy in l1mem keeps its
// queues as Lists over one []Node owned by the policy.
package ilist

// Nil marks the absence of a node in a link.
const Nil int32 = -1

// Node is one slot's links plus two words of policy metadata.
type Node struct {
	Prev, Next int32
	// Meta is free for the policy (segment, frequency bucket, ...).
	Meta uint32
	// Hash is the upper half of the key's hash, kept for policies that need
	// a key fingerprint (the frequency sketch).
	Hash uint32
}

// List is a queue of nodes: Head is the most recently pushed end.
type List struct {
	Head, Tail int32
	Len        int
}

// Init empties l.
func (l *List) Init() { *l = List{Head: Nil, Tail: Nil} }

// PushFront links node i at the head of l.
func (l *List) PushFront(n []Node, i int32) {
	n[i].Prev = Nil
	n[i].Next = l.Head
	if l.Head != Nil {
		n[l.Head].Prev = i
	} else {
		l.Tail = i
	}
	l.Head = i
	l.Len++
}

// Remove unlinks node i, which must be in l.
func (l *List) Remove(n []Node, i int32) {
	p, q := n[i].Prev, n[i].Next
	if p != Nil {
		n[p].Next = q
	} else {
		l.Head = q
	}
	if q != Nil {
		n[q].Prev = p
	} else {
		l.Tail = p
	}
	n[i].Prev, n[i].Next = Nil, Nil
	l.Len--
}

// MoveToFront moves node i, which must be in l, to the head.
func (l *List) MoveToFront(n []Node, i int32) {
	if l.Head == i {
		return
	}
	l.Remove(n, i)
	l.PushFront(n, i)
}

// Back returns the tail of l, or Nil when l is empty.
func (l *List) Back() int32 { return l.Tail }
