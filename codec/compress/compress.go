package compress

import (
	"errors"
	"fmt"
	"sync"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Algorithm is the compression a [Codec] applies to large values.
type Algorithm uint8

const (
	// S2 is klauspost's S2 (a faster Snappy extension): cheap to compress
	// and very cheap to decompress, a smaller gain on size. The default.
	S2 Algorithm = iota + 1
	// Zstd is Zstandard at its default level: smaller output, more CPU.
	Zstd
)

func (a Algorithm) String() string {
	switch a {
	case S2:
		return "s2"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// Defaults used for zero fields of [Options].
const (
	// DefaultMinSize: values the inner codec encodes to fewer bytes than
	// this are stored as they are.
	DefaultMinSize = 1024
	// DefaultMaxDecodedSize bounds what one value may decompress to.
	DefaultMaxDecodedSize = 64 << 20
)

// Options configures [New].
type Options struct {
	// Algorithm for values of at least MinSize bytes. Default (zero): S2.
	// Values compressed with either algorithm decode whatever this is, so
	// it can be changed under existing data.
	Algorithm Algorithm
	// MinSize is the smallest encoded value that is compressed; smaller
	// ones are stored exactly as the inner codec wrote them. Default (0):
	// DefaultMinSize. 1 compresses every value (a value that does not
	// shrink is still stored as it is).
	MinSize int
	// MaxDecodedSize is the largest value Unmarshal decompresses; a
	// larger (or forged) one is a decode error, so a corrupt or hostile
	// Redis value cannot make a reader allocate without bound. Default (0):
	// DefaultMaxDecodedSize.
	MaxDecodedSize int
}

// Wire format. The inner codec's bytes are stored unchanged unless they
// were compressed, so small values cost nothing and data written by the
// inner codec alone still decodes. A compressed value is
//
//	marker, kind, payload
//
// marker is 0xc1, which MessagePack never uses and which cannot start JSON
// text (nor any UTF-8), so no output of codec.MsgPack or codec.JSON begins
// with it. An inner codec whose output does begin with it gets the marker
// and kindRaw in front, which keeps decoding unambiguous for any codec.
const (
	marker   = 0xc1
	kindRaw  = 0x00
	kindS2   = 0x01
	kindZstd = 0x02
	header   = 2
)

// Codec wraps another codec.Codec and compresses its larger outputs. It
// is safe for concurrent use.
type Codec struct {
	inner  codec.Codec
	alg    Algorithm
	min    int
	maxDec int
	name   string
}

// New returns a Codec that encodes with inner and compresses the results
// of at least opts.MinSize bytes with opts.Algorithm. opts may be nil.
func New(inner codec.Codec, opts *Options) (*Codec, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if inner == nil {
		return nil, errors.New("compress: inner codec is nil")
	}
	if o.Algorithm == 0 {
		o.Algorithm = S2
	}
	if o.Algorithm != S2 && o.Algorithm != Zstd {
		return nil, fmt.Errorf("compress: unknown Algorithm %d", uint8(o.Algorithm))
	}
	if o.MinSize < 0 || o.MaxDecodedSize < 0 {
		return nil, fmt.Errorf("compress: MinSize (%d) and MaxDecodedSize (%d) must not be negative", o.MinSize, o.MaxDecodedSize)
	}
	if o.MinSize == 0 {
		o.MinSize = DefaultMinSize
	}
	if o.MaxDecodedSize == 0 {
		o.MaxDecodedSize = DefaultMaxDecodedSize
	}
	return &Codec{
		inner:  inner,
		alg:    o.Algorithm,
		min:    o.MinSize,
		maxDec: o.MaxDecodedSize,
		name:   inner.Name() + "+" + o.Algorithm.String(),
	}, nil
}

// Name is the inner codec's name and the algorithm, e.g. "msgpack+s2".
func (c *Codec) Name() string { return c.name }

// Marshal encodes v with the inner codec and compresses the result when it
// is at least MinSize bytes and compression makes it smaller.
func (c *Codec) Marshal(v any) ([]byte, error) {
	data, err := c.inner.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(data) >= c.min {
		var out []byte
		switch c.alg {
		case S2:
			buf := make([]byte, header+s2.MaxEncodedLen(len(data)))
			buf[1] = kindS2
			out = buf[:header+len(s2.Encode(buf[header:], data))]
		case Zstd:
			enc, err := zstdEncoder()
			if err != nil {
				return nil, fmt.Errorf("%w: zstd: %w", codec.ErrEncode, err)
			}
			out = enc.EncodeAll(data, []byte{0, kindZstd})
		}
		if len(out) < len(data) {
			out[0] = marker
			return out, nil
		}
	}
	if len(data) > 0 && data[0] == marker {
		return append([]byte{marker, kindRaw}, data...), nil
	}
	return data, nil
}

// Unmarshal decompresses data if it is compressed and decodes it with the
// inner codec into v. Errors wrap codec.ErrDecode.
func (c *Codec) Unmarshal(data []byte, v any) error {
	if len(data) == 0 || data[0] != marker {
		return c.inner.Unmarshal(data, v)
	}
	if len(data) < header {
		return fmt.Errorf("%w: compressed value of %d byte has no kind", codec.ErrDecode, len(data))
	}
	payload := data[header:]
	switch data[1] {
	case kindRaw:
		return c.inner.Unmarshal(payload, v)
	case kindS2:
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return fmt.Errorf("%w: s2: %w", codec.ErrDecode, err)
		}
		if n > c.maxDec {
			return fmt.Errorf("%w: s2 value would decompress to %d bytes, over MaxDecodedSize %d", codec.ErrDecode, n, c.maxDec)
		}
		plain, err := s2.Decode(nil, payload)
		if err != nil {
			return fmt.Errorf("%w: s2: %w", codec.ErrDecode, err)
		}
		return c.inner.Unmarshal(plain, v)
	case kindZstd:
		dec, err := zstdDecoder(c.maxDec)
		if err != nil {
			return fmt.Errorf("%w: zstd: %w", codec.ErrDecode, err)
		}
		plain, err := dec.DecodeAll(payload, nil)
		if err != nil {
			return fmt.Errorf("%w: zstd: %w", codec.ErrDecode, err)
		}
		if len(plain) > c.maxDec {
			return fmt.Errorf("%w: zstd value decompressed to %d bytes, over MaxDecodedSize %d", codec.ErrDecode, len(plain), c.maxDec)
		}
		return c.inner.Unmarshal(plain, v)
	}
	return fmt.Errorf("%w: unknown compression kind 0x%02x", codec.ErrDecode, data[1])
}

// One zstd encoder serves every Codec: EncodeAll is safe for concurrent
// use. Decoders are kept per MaxDecodedSize, which is a decoder option.
var (
	encOnce sync.Once
	enc     *zstd.Encoder
	encErr  error

	decMu sync.Mutex
	decs  = map[int]*zstd.Decoder{}
)

func zstdEncoder() (*zstd.Encoder, error) {
	encOnce.Do(func() {
		enc, encErr = zstd.NewWriter(nil)
	})
	return enc, encErr
}

func zstdDecoder(maxSize int) (*zstd.Decoder, error) {
	decMu.Lock()
	defer decMu.Unlock()
	if d, ok := decs[maxSize]; ok {
		return d, nil
	}
	// Concurrency 0 means GOMAXPROCS, the number of concurrent DecodeAll
	// calls it serves without waiting; it starts no goroutines.
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(uint64(maxSize)), zstd.WithDecoderMaxWindow(min(uint64(max(maxSize, zstd.MinWindowSize)), zstd.MaxWindowSize)))
	if err != nil {
		return nil, err
	}
	decs[maxSize] = d
	return d, nil
}
