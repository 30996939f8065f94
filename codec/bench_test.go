package codec_test

import (
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/codec"
)

// Record is a representative 10-field row: the shape the benchmarks and fuzz
// targets use.
type Record struct {
	ID        string
	Username  string
	Email     string
	Level     int
	Score     int64
	Ratio     float64
	Active    bool
	Tags      []string
	Avatar    []byte
	CreatedAt time.Time
}

func record() Record {
	return Record{
		ID: "p-000123", Username: "ada", Email: "ada@example.com", Level: 42,
		Score: 1_234_567, Ratio: 0.875, Active: true, Tags: []string{"admin", "beta"},
		Avatar:    []byte("0123456789abcdef0123456789abcdef"),
		CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, c := range []codec.Codec{codec.MsgPack{}, codec.JSON{}} {
		b.Run(c.Name(), func(b *testing.B) {
			r := record()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Marshal(&r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, c := range []codec.Codec{codec.MsgPack{}, codec.JSON{}} {
		b.Run(c.Name(), func(b *testing.B) {
			data, err := c.Marshal(record())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var r Record
				if err := c.Unmarshal(data, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
