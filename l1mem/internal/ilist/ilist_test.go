package ilist

import (
	"slices"
	"testing"
)

func collect(l *List, n []Node) []int32 {
	var out []int32
	for i := l.Head; i != Nil; i = n[i].Next {
		out = append(out, i)
	}
	return out
}

func TestList(t *testing.T) {
	n := make([]Node, 5)
	var l List
	l.Init()
	for i := range int32(5) {
		l.PushFront(n, i)
	}
	if got := collect(&l, n); !slices.Equal(got, []int32{4, 3, 2, 1, 0}) || l.Back() != 0 || l.Len != 5 {
		t.Fatalf("after pushes: %v back %d len %d", got, l.Back(), l.Len)
	}
	l.MoveToFront(n, 0)
	l.Remove(n, 2)
	l.MoveToFront(n, 0) // already at the head
	if got := collect(&l, n); !slices.Equal(got, []int32{0, 4, 3, 1}) || l.Back() != 1 || l.Len != 4 {
		t.Fatalf("after moves: %v back %d len %d", got, l.Back(), l.Len)
	}
	for _, i := range []int32{0, 1, 3, 4} {
		l.Remove(n, i)
	}
	if l.Head != Nil || l.Tail != Nil || l.Len != 0 {
		t.Fatalf("not empty: %+v", l)
	}
}
