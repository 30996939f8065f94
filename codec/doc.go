// Package codec turns Go values into bytes and back for the tiers of Strata
// that store bytes (Redis, and anything else that cannot hold a Go value).
//
// # Codecs
//
// A [Codec] has three methods: Marshal, Unmarshal and Name. Two
// implementations ship with the package and are used as plain values:
//
//   - [MsgPack] (codec.MsgPack{}) is the default. It is compact and fast and
//     encodes structs as maps keyed by field name, so adding a field to a
//     struct never breaks values that were cached before the change.
//   - [JSON] (codec.JSON{}) is human-readable, which helps when inspecting
//     Redis by hand, at the price of size and speed.
//
// Both are stateless, safe for concurrent use, and their zero value is ready.
//
// # What round-trips exactly
//
// For every type Strata maps to a column — string, every int, uint and
// float width, bool, time.Time, []byte, nested structs, maps, slices and
// pointers — decoding what was encoded gives back an equal value, and the
// difference between a nil slice or map and an empty one is kept.
//
// A few edges are worth knowing:
//
//   - time.Time keeps its instant to the nanosecond and never carries a
//     monotonic clock reading. The location is not preserved: MsgPack returns
//     times in [time.Local] (the zero time in UTC), JSON returns them with the
//     fixed UTC offset they were written with. Compare times with
//     [time.Time.Equal], never with ==.
//   - JSON cannot represent NaN or ±Inf floats; marshalling them fails with
//     [ErrEncode]. MsgPack keeps them.
//   - JSON replaces invalid UTF-8 in strings with U+FFFD; MsgPack keeps the
//     bytes as they are.
//   - Unexported struct fields are not encoded by either codec.
//
// # Untrusted input
//
// Unmarshal never panics on malformed input, and MsgPack checks the framing
// of its input before decoding: a declared string, binary, array or map length
// larger than the bytes that remain, nesting deeper than 10,000 levels, or
// bytes after the value are rejected with [ErrDecode]. A few bytes of input
// therefore cannot make the decoder reserve memory for millions of elements.
//
// # Conformance
//
// The codectest subpackage holds the round-trip suite that every Codec in
// this module passes; a third-party Codec can run it too.
package codec
