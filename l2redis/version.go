package l2redis

import (
	"strconv"
)

// A versioned value is a value prefixed with the version of the row it was
// read or written as: versionMagic, then the version as twenty decimal
// digits (zero-padded, so that the scripts compare versions as strings),
// then the value itself. Like a lease marker it begins with a NUL byte,
// which no MsgPack map or JSON document does. Reads (Get, MGet,
// GetOrLease) return the value without its prefix; only [Store.Apply]'s
// refreshes look at the version.
const versionMagic = "\x00\xffl2redis-v:"

const versionDigits = 20

// versionHeaderLen is the length of a versioned value's prefix.
const versionHeaderLen = len(versionMagic) + versionDigits

// Versioned returns value prefixed with version, for [Store.Fill],
// [Store.FillMany] and the refreshes of [Store.Apply]. The result is a new
// slice; value is not modified.
func Versioned(version uint64, value []byte) []byte {
	b := make([]byte, 0, versionHeaderLen+len(value))
	b = append(b, versionMagic...)
	var digits [versionDigits]byte
	d := strconv.AppendUint(digits[:0], version, 10)
	for range versionDigits - len(d) {
		b = append(b, '0')
	}
	b = append(b, d...)
	return append(b, value...)
}

// versionDigitsOf returns version as a versioned value's twenty digits.
func versionDigitsOf(version uint64) string {
	return string(Versioned(version, nil)[len(versionMagic):])
}

// SplitVersion returns the version and the value of a versioned value, or
// 0, b, false when b carries no version.
func SplitVersion(b []byte) (uint64, []byte, bool) {
	if len(b) < versionHeaderLen || string(b[:len(versionMagic)]) != versionMagic {
		return 0, b, false
	}
	v, err := strconv.ParseUint(string(b[len(versionMagic):versionHeaderLen]), 10, 64)
	if err != nil {
		return 0, b, false
	}
	return v, b[versionHeaderLen:], true
}

// stripVersion returns b without a version prefix, if it has one.
func stripVersion(b []byte) []byte {
	_, v, _ := SplitVersion(b)
	return v
}
