package l2redis_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/l2redis"
)

func TestInvalidationRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  l2redis.Invalidation
	}{
		{"one id", l2redis.Invalidation{Schema: "players", IDs: []string{"42"}, Op: l2redis.OpSet, Source: "a1b2", Seq: 1}},
		{"many ids", l2redis.Invalidation{Schema: "s", IDs: []string{"1", "", "x:y", strings.Repeat("z", 300)}, Op: l2redis.OpDelete, Source: "src", Seq: 1 << 40}},
		{"flush", l2redis.Invalidation{Schema: "players", Op: l2redis.OpFlush, Source: "s", Seq: 7}},
		{"binary strings", l2redis.Invalidation{Schema: "\x00\xff", IDs: []string{"\x00"}, Op: l2redis.OpSet, Source: "", Seq: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.msg.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := l2redis.DecodeInvalidation(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.msg, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInvalidationSize(t *testing.T) {
	t.Parallel()
	b, _ := l2redis.Invalidation{Schema: "players", IDs: []string{"12345"}, Op: l2redis.OpSet, Source: "0123456789abcdef", Seq: 1000}.MarshalBinary()
	if len(b) > 40 {
		t.Errorf("one-id message is %d bytes, want a compact one (<= 40)", len(b))
	}
}

func TestDecodeInvalidationErrors(t *testing.T) {
	t.Parallel()
	valid, _ := l2redis.Invalidation{Schema: "s", IDs: []string{"a"}, Op: l2redis.OpSet, Source: "x", Seq: 3}.MarshalBinary()
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"one byte", []byte{1}},
		{"bad version", append([]byte{9}, valid[1:]...)},
		{"bad op", append([]byte{1, 0}, valid[2:]...)},
		{"truncated", valid[:len(valid)-1]},
		{"trailing", append(append([]byte{}, valid...), 0)},
		{"huge id count", []byte{1, 1, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f}},
		{"huge string", []byte{1, 1, 1, 0xff, 0xff, 0xff, 0x7f}},
		{"bad varint", []byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := l2redis.DecodeInvalidation(tt.in); !errors.Is(err, l2redis.ErrInvalidMessage) {
				t.Errorf("DecodeInvalidation(%x) error = %v, want ErrInvalidMessage", tt.in, err)
			}
		})
	}
	if _, err := (l2redis.Invalidation{Op: 0}).MarshalBinary(); !errors.Is(err, l2redis.ErrInvalidMessage) {
		t.Errorf("MarshalBinary(op 0) = %v, want ErrInvalidMessage", err)
	}
}

func TestOpString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op   l2redis.Op
		want string
	}{{l2redis.OpSet, "set"}, {l2redis.OpDelete, "delete"}, {l2redis.OpFlush, "flush"}, {9, "op(9)"}}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("Op(%d).String() = %q, want %q", tt.op, got, tt.want)
		}
	}
}

func FuzzDecodeInvalidation(f *testing.F) {
	seed, _ := l2redis.Invalidation{Schema: "s", IDs: []string{"a", "b"}, Op: l2redis.OpDelete, Source: "x", Seq: 9}.MarshalBinary()
	f.Add(seed)
	f.Add([]byte{1, 3, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := l2redis.DecodeInvalidation(b)
		if err != nil {
			return
		}
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		m2, err := l2redis.DecodeInvalidation(again)
		if err != nil || !cmp.Equal(m, m2) {
			t.Fatalf("re-encoding changed the message: %+v vs %+v (%v)", m, m2, err)
		}
	})
}
