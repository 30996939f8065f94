package codec_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/codec"
)

func TestMsgPackNonFiniteFloats(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		data, err := codec.MsgPack{}.Marshal(f)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", f, err)
		}
		var got float64
		if err := (codec.MsgPack{}).Unmarshal(data, &got); err != nil {
			t.Fatalf("Unmarshal(%v): %v", f, err)
		}
		if math.Float64bits(got) != math.Float64bits(f) {
			t.Errorf("round trip of %v gave %v", f, got)
		}
	}
}

func TestJSONRejectsNonFiniteFloats(t *testing.T) {
	t.Parallel()
	if _, err := (codec.JSON{}).Marshal(math.NaN()); !errors.Is(err, codec.ErrEncode) {
		t.Errorf("Marshal(NaN) error = %v, want one wrapping codec.ErrEncode", err)
	}
}

// TestMsgPackRejectsBadFraming feeds inputs whose declared sizes or nesting
// would make a naive decoder allocate or recurse far beyond the input's size.
func TestMsgPackRejectsBadFraming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		into func() any
	}{
		{"empty input", nil, func() any { return new(any) }},
		{"array32 of 4 billion", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, func() any { return new([]int64) }},
		{"array32 of a million structs", []byte{0xdd, 0x00, 0x0f, 0x42, 0x40, 0xc0}, func() any { return new([]struct{ A, B, C, D string }) }},
		{"map32 of 4 billion", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, func() any { return new(map[string]int) }},
		{"str32 of 4 GiB", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, func() any { return new(string) }},
		{"bin32 of 4 GiB", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}, func() any { return new([]byte) }},
		{"ext32 of 4 GiB", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, func() any { return new(any) }},
		{"truncated float64", []byte{0xcb, 0x00}, func() any { return new(float64) }},
		{"reserved code", []byte{0xc1}, func() any { return new(any) }},
		{"trailing bytes", []byte{0x01, 0x02}, func() any { return new(int) }},
		{"nested 20000 deep", []byte(strings.Repeat("\x91", 20000) + "\xc0"), func() any { return new(any) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := codec.MsgPack{}.Unmarshal(tt.data, tt.into())
			if !errors.Is(err, codec.ErrDecode) {
				t.Fatalf("Unmarshal(% x) error = %v, want one wrapping codec.ErrDecode", tt.data[:min(len(tt.data), 8)], err)
			}
		})
	}
}

func TestMsgPackAcceptsDeepButBoundedNesting(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("\x91", 100) + "\x2a")
	var got any
	if err := (codec.MsgPack{}).Unmarshal(data, &got); err != nil {
		t.Fatalf("Unmarshal of 100 nested arrays: %v", err)
	}
}

// Found by FuzzMsgPackUnmarshal: the msgpack library panics when a nil is
// decoded into a time.Time struct field. The codec must return an error.
func TestMsgPackNilIntoTimeFieldIsAnError(t *testing.T) {
	t.Parallel()
	data := []byte("\x81\xa2At\xc0")
	var got struct{ At time.Time }
	if err := (codec.MsgPack{}).Unmarshal(data, &got); !errors.Is(err, codec.ErrDecode) {
		t.Fatalf("Unmarshal error = %v, want one wrapping codec.ErrDecode", err)
	}
}

// Found by FuzzMsgPackUnmarshal: decoding into a map, msgpack v5 skips an
// extension header and reads a map header from the extension's payload. A
// map32 header hidden in a timestamp must not reserve billions of entries.
func TestMsgPackRejectsContainerHiddenInExtension(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		into any
	}{
		{"map32 in fixext8", []byte("\xd7\x80\xdf\xdf\xdf\xdf\xdf\xdf00"), new(map[string]any)},
		{"map32 in timestamp", []byte("\xd7\xff\xdf\xff\xff\xff\xff\x00\x00\x00"), new(map[string]any)},
		{"nested map32 in timestamp", []byte("\x81\xa1k\xc7\x0c\xff\x81\xa1a\xdf\xff\xff\xff\xff\x00\x00\x00\x00"), new(map[string]map[string]map[string]any)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := codec.MsgPack{}.Unmarshal(tt.data, tt.into)
			if !errors.Is(err, codec.ErrDecode) || !strings.Contains(err.Error(), "extension") {
				t.Fatalf("Unmarshal error = %v, want one wrapping codec.ErrDecode that blames the extension", err)
			}
		})
	}
}

// Timestamps whose bytes look like map headers must still decode into types
// that hold maps: the guard against extensions at map positions must not
// reject well-formed input.
func TestMsgPackTimesBesideMapsRoundTrip(t *testing.T) {
	t.Parallel()
	type row struct {
		Counts map[string]int64
		At     time.Time
		Meta   map[string]any
	}
	base := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5000 {
		// Walk seconds and nanoseconds so payload bytes take every value.
		in := row{Counts: map[string]int64{"n": int64(i)}, At: base.Add(time.Duration(i)*(time.Second+1_931_135_489) + time.Duration(i%7)*time.Hour*24*365)}
		data, err := codec.MsgPack{}.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out row
		if err := (codec.MsgPack{}).Unmarshal(data, &out); err != nil {
			t.Fatalf("Unmarshal of %v: %v", in.At, err)
		}
		if !out.At.Equal(in.At) || out.Counts["n"] != int64(i) {
			t.Fatalf("round trip of %+v gave %+v", in, out)
		}
	}
}
