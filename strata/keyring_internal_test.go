package strata

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestKeyringOpensEveryGenerationAndNamesKeyIDs: a value sealed with the
// current key carries its key id; values sealed with a previous key, or
// before key ids existed (bare base64), still open; a value sealed with an
// unknown key or stored in plaintext fails with ErrDecodeFailed naming the
// key ids (and Reencrypt for plaintext), never returning the stored text.
func TestKeyringOpensEveryGenerationAndNamesKeyIDs(t *testing.T) {
	t.Parallel()
	a, b, c := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	old, err := newKeyring(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := newKeyring(b, [][]byte{a})
	if err != nil {
		t.Fatal(err)
	}
	other, err := newKeyring(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	withA, _ := old.seal("t", "col", "id1", "secret")
	if !strings.HasPrefix(withA, "s1:"+keyID(a)+":") {
		t.Fatalf("sealed value %q does not carry key id %s", withA, keyID(a))
	}
	legacyA, _ := old.cur.seal("t", "col", "id1", "secret") // the format before key ids
	withB, _ := rotated.seal("t", "col", "id1", "secret")
	if !strings.HasPrefix(withB, "s1:"+keyID(b)+":") {
		t.Fatalf("the rotated keyring sealed %q, not with key id %s", withB, keyID(b))
	}
	for _, tc := range []struct {
		name, sealed string
		want         cellState
	}{
		{"current key", withB, cellCurrent},
		{"previous key", withA, cellOld},
		{"previous key, no key id", legacyA, cellOld},
	} {
		got, state, err := rotated.openWith("t", "col", "id1", tc.sealed)
		if err != nil || got != "secret" || state != tc.want {
			t.Errorf("%s: open = %q, state %d, %v; want \"secret\", state %d", tc.name, got, state, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name, sealed string
		want         []string
	}{
		{"unknown key", withB, []string{"key id " + keyID(b), "PreviousEncryptionKeys"}},
		{"unknown key, no key id", legacyA, []string{"key id " + keyID(c)}},
		{"plaintext", "hello world", []string{"plaintext", "key id " + keyID(c), "Reencrypt"}},
		{"plaintext that looks keyed", "s1:notakey:x", []string{"plaintext", "Reencrypt"}},
	} {
		got, err := other.open("t", "col", "id1", tc.sealed)
		if !errors.Is(err, ErrDecodeFailed) || got != "" {
			t.Errorf("%s: open = %q, %v; want \"\" and ErrDecodeFailed", tc.name, got, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
	if _, err := newKeyring(b, [][]byte{b}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("the current key listed again as a previous one: %v, want ErrInvalidConfig", err)
	}
	if _, err := newKeyring(b, [][]byte{{1, 2}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a 2-byte previous key: %v, want ErrInvalidConfig", err)
	}
}
