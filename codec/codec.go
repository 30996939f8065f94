package codec

import "reflect"

// Codec converts values to bytes and back.
//
// Implementations must be safe for concurrent use. Unmarshal must accept
// exactly what Marshal of the same implementation produced, decode into the
// non-nil pointer it is given, and return an error wrapping [ErrDecode]
// (never panic) for anything else.
type Codec interface {
	// Marshal encodes v. Errors wrap ErrEncode.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to. Errors wrap ErrDecode.
	Unmarshal(data []byte, v any) error
	// Name is a short, stable identifier such as "msgpack" or "json".
	Name() string
}

// Default is the codec Strata uses when none is configured.
var Default Codec = MsgPack{}

// checkTarget reports whether v can be decoded into: a non-nil pointer.
func checkTarget(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && !rv.IsNil()
}
