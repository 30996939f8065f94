package testkit

import (
	"crypto/rand"
	"encoding/hex"
)

// Suffix returns 12 random lower-case hex digits, for the names of tables,
// schemas, key prefixes, channels and slots, so that tests sharing a server
// never meet.
func Suffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}
