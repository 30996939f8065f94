package compress_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/codec/codectest"
	"github.com/AndrewDonelson/strata/codec/compress"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mustNew(t testing.TB, inner codec.Codec, o *compress.Options) *compress.Codec {
	t.Helper()
	c, err := compress.New(inner, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type doc struct {
	ID   string
	Body string
	Tags []string
	N    int64
}

// bigDoc is about size bytes of MessagePack, compressible like real text.
func bigDoc(size int) doc {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %d: the player moved to zone %d and scored %d points. ", i, i%17, i*31%1000)
	}
	return doc{ID: "d1", Body: b.String()[:size], Tags: []string{"a", "b"}, N: int64(size)}
}

// codecs returns every inner codec × algorithm; maxDec 0 is the default
// MaxDecodedSize. (Corrupt input may claim any size up to it, so the
// corruption tests keep it small to stay fast.)
func codecs(t testing.TB, minSize, maxDec int) []codec.Codec {
	var cs []codec.Codec
	for _, inner := range []codec.Codec{codec.MsgPack{}, codec.JSON{}} {
		for _, alg := range []compress.Algorithm{compress.S2, compress.Zstd} {
			cs = append(cs, mustNew(t, inner, &compress.Options{Algorithm: alg, MinSize: minSize, MaxDecodedSize: maxDec}))
		}
	}
	return cs
}

// TestConformance runs the codec conformance suite over every inner codec
// and algorithm, with the default threshold and with every value
// compressed.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, minSize := range []int{0, 1} {
		for _, c := range codecs(t, minSize, 0) {
			t.Run(fmt.Sprintf("%s/min%d", c.Name(), minSize), func(t *testing.T) {
				t.Parallel()
				codectest.Run(t, c)
			})
		}
	}
}

// TestLargeValuesShrinkSmallOnesPayNothing: a value over MinSize is stored
// compressed and decodes back; a value under it is byte for byte what the
// inner codec wrote.
func TestLargeValuesShrinkSmallOnesPayNothing(t *testing.T) {
	t.Parallel()
	for _, c := range codecs(t, 0, 0) {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			inner := codec.Codec(codec.MsgPack{})
			if strings.HasPrefix(c.Name(), "json") {
				inner = codec.JSON{}
			}
			small := doc{ID: "s", Body: "short", N: 1}
			plain, _ := inner.Marshal(small)
			got, err := c.Marshal(small)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("a %d-byte value was changed to %d bytes; values under MinSize must be stored as the inner codec wrote them", len(plain), len(got))
			}
			for _, size := range []int{1 << 10, 10 << 10, 100 << 10} {
				v := bigDoc(size)
				plain, _ := inner.Marshal(v)
				data, err := c.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if len(data) >= len(plain)/2 {
					t.Errorf("%d-byte value compressed to %d bytes, want under half", len(plain), len(data))
				}
				t.Logf("%s: %d → %d bytes", c.Name(), len(plain), len(data))
				var back doc
				if err := c.Unmarshal(data, &back); err != nil {
					t.Fatal(err)
				}
				if back.Body != v.Body || back.N != v.N || len(back.Tags) != 2 {
					t.Errorf("round trip of a %d-byte value differs", size)
				}
			}
		})
	}
}

// TestDecodesUncompressedAndOtherAlgorithm: data written by the inner codec
// alone (before compression was turned on) and data compressed with the
// other algorithm both decode.
func TestDecodesUncompressedAndOtherAlgorithm(t *testing.T) {
	t.Parallel()
	v := bigDoc(20 << 10)
	s2c := mustNew(t, codec.MsgPack{}, &compress.Options{Algorithm: compress.S2})
	zc := mustNew(t, codec.MsgPack{}, &compress.Options{Algorithm: compress.Zstd})
	old, _ := codec.MsgPack{}.Marshal(v)
	byS2, _ := s2c.Marshal(v)
	byZ, _ := zc.Marshal(v)
	for _, c := range []*compress.Codec{s2c, zc} {
		for name, data := range map[string][]byte{"uncompressed": old, "s2": byS2, "zstd": byZ} {
			var got doc
			if err := c.Unmarshal(data, &got); err != nil || got.Body != v.Body {
				t.Errorf("%s decoding %s data: err %v, body equal %v", c.Name(), name, err, got.Body == v.Body)
			}
		}
	}
}

// markerCodec is an inner codec whose output starts with the byte that
// marks compressed values.
type markerCodec struct{}

func (markerCodec) Name() string { return "marker" }
func (markerCodec) Marshal(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: not a string", codec.ErrEncode)
	}
	return append([]byte{0xc1}, s...), nil
}
func (markerCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*string)
	if !ok || p == nil || len(data) == 0 || data[0] != 0xc1 {
		return fmt.Errorf("%w: not a marker value", codec.ErrDecode)
	}
	*p = string(data[1:])
	return nil
}

// TestInnerOutputStartingWithMarker: an inner codec whose bytes begin with
// the marker still round-trips, small or large, compressible or not.
func TestInnerOutputStartingWithMarker(t *testing.T) {
	t.Parallel()
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rand.IntN(256))
	}
	for _, alg := range []compress.Algorithm{compress.S2, compress.Zstd} {
		c := mustNew(t, markerCodec{}, &compress.Options{Algorithm: alg})
		for _, s := range []string{"", "x", strings.Repeat("ab", 4096), string(random)} {
			data, err := c.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if err := c.Unmarshal(data, &got); err != nil || got != s {
				t.Errorf("%s: round trip of a %d-byte string: err %v, equal %v", c.Name(), len(s), err, got == s)
			}
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		inner codec.Codec
		o     *compress.Options
	}{
		"nil inner":         {nil, nil},
		"unknown algorithm": {codec.MsgPack{}, &compress.Options{Algorithm: 9}},
		"negative MinSize":  {codec.MsgPack{}, &compress.Options{MinSize: -1}},
		"negative MaxDec":   {codec.MsgPack{}, &compress.Options{MaxDecodedSize: -1}},
	} {
		if _, err := compress.New(tc.inner, tc.o); err == nil {
			t.Errorf("%s: New returned no error", name)
		}
	}
}

// TestDecompressionBombsAreRefused: a value claiming (s2) or producing
// (zstd) more than MaxDecodedSize bytes is a decode error, found before
// the memory is allocated.
func TestDecompressionBombsAreRefused(t *testing.T) {
	t.Parallel()
	huge := bytes.Repeat([]byte{0}, 2<<20)
	zenc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zenc.Close()
	for name, data := range map[string][]byte{
		"s2":   append([]byte{0xc1, 0x01}, s2.Encode(nil, huge)...),
		"zstd": zenc.EncodeAll(huge, []byte{0xc1, 0x02}),
	} {
		c := mustNew(t, codec.MsgPack{}, &compress.Options{MaxDecodedSize: 1 << 20})
		var v []byte
		err := c.Unmarshal(data, &v)
		if !errors.Is(err, codec.ErrDecode) {
			t.Errorf("%s: %d compressed bytes of 2 MiB with MaxDecodedSize 1 MiB: error %v, want ErrDecode", name, len(data), err)
		}
	}
}

// TestCorruptInputIsAnErrorNotAPanic mutates compressed values (truncation,
// flipped bytes, random tails, unknown kinds) and checks Unmarshal returns
// nil or an error wrapping codec.ErrDecode, never panics.
func TestCorruptInputIsAnErrorNotAPanic(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range codecs(t, 1, 64<<10) {
		seed, err := c.Marshal(bigDoc(3000))
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, data []byte) {
			t.Helper()
			var got doc
			if err := c.Unmarshal(data, &got); err != nil && !errors.Is(err, codec.ErrDecode) {
				t.Fatalf("%s: %s: error %v does not wrap codec.ErrDecode", c.Name(), what, err)
			}
		}
		check("marker only", []byte{0xc1})
		for k := 0x03; k < 0x100; k += 0x3d {
			var got doc
			if err := c.Unmarshal([]byte{0xc1, byte(k), 1, 2, 3}, &got); !errors.Is(err, codec.ErrDecode) {
				t.Errorf("%s: unknown kind 0x%02x: error %v, want ErrDecode", c.Name(), k, err)
			}
		}
		for n := range len(seed) {
			var got doc
			if err := c.Unmarshal(seed[:n], &got); !errors.Is(err, codec.ErrDecode) {
				t.Fatalf("%s: first %d of %d bytes: error %v, want ErrDecode", c.Name(), n, len(seed), err)
			}
		}
		for range 3000 {
			data := bytes.Clone(seed)
			for range 1 + r.IntN(4) {
				data[2+r.IntN(len(data)-2)] ^= byte(1 + r.IntN(255))
			}
			check("flipped bytes", data)
			tail := make([]byte, r.IntN(64))
			for i := range tail {
				tail[i] = byte(r.IntN(256))
			}
			check("random payload", append([]byte{0xc1, seed[1]}, tail...))
		}
	}
}

// FuzzUnmarshal: no input makes Unmarshal panic or return an error that
// does not wrap codec.ErrDecode. Run longer with
// go test -fuzz FuzzUnmarshal -fuzztime 30s.
func FuzzUnmarshal(f *testing.F) {
	cs := codecs(f, 1, 64<<10)
	for _, c := range cs {
		for _, size := range []int{10, 2000} {
			data, err := c.Marshal(bigDoc(size))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range cs {
			var got doc
			if err := c.Unmarshal(data, &got); err != nil && !errors.Is(err, codec.ErrDecode) {
				t.Fatalf("%s: error %v does not wrap codec.ErrDecode", c.Name(), err)
			}
		}
	})
}
