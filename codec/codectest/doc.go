// Package codectest is the conformance suite for implementations of
// codec.Codec, in the spirit of testing/slogtest.
//
// A Codec passes when [Run] reports no failure: every value in the suite —
// one per type Strata maps to a column, with nil and empty variants and
// boundary numbers — decodes back to a value equal to the one encoded, times
// compare equal as instants and carry no monotonic reading, and bad targets
// or malformed input return an error wrapping codec.ErrDecode instead of
// panicking.
//
// The package has no dependency outside the standard library and the codec
// module, so a third-party Codec can run it from its own tests.
package codectest
