package codec_test

import (
	"runtime/metrics"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/codec"
)

// heapAllocs reads the cumulative bytes allocated on the heap by this process.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// allocBudget is how much a single Unmarshal of n input bytes may allocate.
// Every element of a container costs at least one input byte, so allocation
// grows with the input; the constant leaves room for the decoder's own pools
// and the largest element type used below.
func allocBudget(n int) uint64 { return 1<<20 + 1024*uint64(n) }

func fuzzUnmarshal(f *testing.F, c codec.Codec) {
	for _, v := range []any{record(), []Record{record(), {}}, map[string]any{"a": []any{1, "x", true}}, "s", int64(-1)} {
		data, err := c.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte(`{"Tags":[` + "\"a\",\"b\"" + `]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []any{new(Record), new([]Record), new(map[string]any), new(any), new(time.Time)}
		for _, target := range targets {
			before := heapAllocs()
			_ = c.Unmarshal(data, target) // errors are fine; panics and blow-ups are not
			if used := heapAllocs() - before; used > allocBudget(len(data)) {
				t.Fatalf("Unmarshal of %d bytes into %T allocated %d bytes (budget %d)", len(data), target, used, allocBudget(len(data)))
			}
		}
	})
}

func FuzzMsgPackUnmarshal(f *testing.F) { fuzzUnmarshal(f, codec.MsgPack{}) }
func FuzzJSONUnmarshal(f *testing.F)    { fuzzUnmarshal(f, codec.JSON{}) }
