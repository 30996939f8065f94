package compress_test

import (
	"fmt"
	"testing"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/codec/compress"
)

// BenchmarkCodec measures Marshal and Unmarshal of 1, 10 and 100 KiB
// records (MessagePack of text) plain, with S2 and with Zstd, and reports
// the encoded size as bytes/value.
//
//	go test -run '^$' -bench Codec -benchmem .
func BenchmarkCodec(b *testing.B) {
	for _, size := range []int{1 << 10, 10 << 10, 100 << 10} {
		v := bigDoc(size)
		for _, c := range []codec.Codec{
			codec.MsgPack{},
			mustNew(b, codec.MsgPack{}, &compress.Options{Algorithm: compress.S2, MinSize: 512}),
			mustNew(b, codec.MsgPack{}, &compress.Options{Algorithm: compress.Zstd, MinSize: 512}),
		} {
			data, err := c.Marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%dKiB/%s/marshal", size>>10, c.Name()), func(b *testing.B) {
				for b.Loop() {
					if _, err := c.Marshal(v); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(data)), "bytes/value")
			})
			b.Run(fmt.Sprintf("%dKiB/%s/unmarshal", size>>10, c.Name()), func(b *testing.B) {
				for b.Loop() {
					var got doc
					if err := c.Unmarshal(data, &got); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(data)), "bytes/value")
			})
		}
	}
}
