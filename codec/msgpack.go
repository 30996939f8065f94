package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// MsgPack encodes values as MessagePack using github.com/vmihailenco/msgpack/v5.
// It is the default codec. Struct fields are keyed by name (the msgpack
// struct tag, else the json tag, else the Go field name).
//
// The zero value is ready to use and safe for concurrent use.
type MsgPack struct{}

var _ Codec = MsgPack{}

// Name returns "msgpack".
func (MsgPack) Name() string { return "msgpack" }

// Marshal encodes v as MessagePack. A panic inside the encoder is recovered
// and returned as an error wrapping ErrEncode.
func (MsgPack) Marshal(v any) (_ []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("codec: msgpack: marshal %T: %w: encoder panicked: %v", v, ErrEncode, r)
		}
	}()
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("codec: msgpack: marshal %T: %w: %w", v, ErrEncode, err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// bufPool recycles encoding buffers, so Marshal allocates only its result.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 64<<10 { // let unusually large buffers go
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// Unmarshal decodes MessagePack data into the value v points to. The framing
// of data is validated first (see the package documentation), so malformed
// input is rejected before any memory is reserved for it.
//
// The underlying decoder panics on a few well-framed but ill-typed inputs
// (a nil where a time.Time field is expected, found by fuzzing); such a panic
// is recovered and returned as an error wrapping ErrDecode.
func (MsgPack) Unmarshal(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("codec: msgpack: unmarshal into %T: %w: decoder panicked: %v", v, ErrDecode, r)
		}
	}()
	if !checkTarget(v) {
		return fmt.Errorf("codec: msgpack: unmarshal into %T: target must be a non-nil pointer: %w", v, ErrDecode)
	}
	if err := validateMsgPack(data); err != nil {
		return fmt.Errorf("codec: msgpack: unmarshal into %T: %w: %w", v, ErrDecode, err)
	}
	if t := reflect.TypeOf(v).Elem(); holdsMap(t) && hasExt(data) {
		if err := checkMapTargets(data, t); err != nil {
			return fmt.Errorf("codec: msgpack: unmarshal into %T: %w: %w", v, ErrDecode, err)
		}
	}
	if err := msgpack.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: msgpack: unmarshal into %T: %w: %w", v, ErrDecode, err)
	}
	return nil
}
