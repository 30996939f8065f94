package l2redis

import (
	"strings"
	"testing"
)

// TestBusDeliverOfItsOwnMessageAllocatesNothing: a subscriber receives the
// messages its own instance publishes (one per write of this instance);
// without DeliverOwn it skips them before decoding anything.
func TestBusDeliverOfItsOwnMessageAllocatesNothing(t *testing.T) {
	delivered := 0
	b := &Bus{opt: BusOptions{InstanceID: "instance-1", OnMessage: func(Invalidation) { delivered++ }}, sources: map[string]uint64{}}
	own, _ := Invalidation{Schema: "users", IDs: []string{"u1", "u2"}, Op: OpSet, Source: "instance-1", Seq: 300}.MarshalBinary()
	if n := testing.AllocsPerRun(100, func() { b.deliver(string(own)) }); n != 0 {
		t.Errorf("delivering its own message allocates %v times, want 0", n)
	}
	if delivered != 0 || len(b.sources) != 0 {
		t.Errorf("its own message was delivered %d times and tracked as %v, want neither", delivered, b.sources)
	}
	other, _ := Invalidation{Schema: "users", IDs: []string{"u1"}, Op: OpSet, Source: "instance-10", Seq: 1}.MarshalBinary()
	b.deliver(string(other))
	if delivered != 1 {
		t.Errorf("another instance's message was delivered %d times, want 1", delivered)
	}
	b.opt.DeliverOwn = true
	b.deliver(string(own))
	if delivered != 2 {
		t.Errorf("with DeliverOwn its own message was delivered %d times in all, want 2", delivered)
	}
}

// TestSourceIsReadsTheSourceAsDecodeDoes: sourceIs agrees with
// DecodeInvalidation's Source for every sequence number width and source
// length, and on every truncation it never claims a source the complete
// head does not name (nor panics).
func TestSourceIsReadsTheSourceAsDecodeDoes(t *testing.T) {
	for _, seq := range []uint64{0, 1, 127, 128, 1 << 40, 1<<64 - 1} {
		for _, src := range []string{"", "a", "instance-1", strings.Repeat("s", 200)} {
			p, err := Invalidation{Schema: "x", IDs: []string{"1"}, Op: OpDelete, Source: src, Seq: seq}.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !sourceIs(string(p), src) {
				t.Errorf("seq %d, source %.10q: sourceIs(its own source) = false", seq, src)
			}
			for _, other := range []string{src + "x", "b", "instance-2"} {
				if other != src && sourceIs(string(p), other) {
					t.Errorf("seq %d, source %.10q: sourceIs(%.10q) = true", seq, src, other)
				}
			}
			for n := range len(p) {
				if sourceIs(string(p[:n]), src) && n < headLen(p) {
					t.Errorf("seq %d, source %.10q: a head truncated to %d bytes matched", seq, src, n)
				}
				for _, other := range []string{src + "x", "zz"} {
					if sourceIs(string(p[:n]), other) {
						t.Errorf("seq %d, source %.10q: a truncation to %d bytes matched %.10q", seq, src, n, other)
					}
				}
			}
		}
	}
}

// headLen is how many bytes of p hold the version, op, sequence number and
// source.
func headLen(p []byte) int {
	d := decoder{b: p[2:]}
	d.uvarint()
	d.string()
	return len(p) - len(d.b)
}
