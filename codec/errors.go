package codec

import "errors"

var (
	// ErrEncode is wrapped by every error a Codec's Marshal returns: the value
	// has a type the codec cannot represent (a channel, a function, a NaN in
	// JSON, ...).
	ErrEncode = errors.New("codec: encode failed")

	// ErrDecode is wrapped by every error a Codec's Unmarshal returns: the
	// input is malformed or truncated, does not fit the target's type, or the
	// target is not a non-nil pointer.
	ErrDecode = errors.New("codec: decode failed")
)
