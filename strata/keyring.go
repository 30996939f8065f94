package strata

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Key rotation (Config.PreviousEncryptionKeys).
//
// A value sealed now is "s1:<key id>:" followed by base64(nonce ||
// ciphertext || tag) as before. The key id is the first 4 bytes of
// SHA-256("strata/key-id/v1" || key), in hex: it names the key without
// revealing it. Values sealed before key ids existed are the bare base64;
// ':' is not in the base64 alphabet, so a value with the "s1:" prefix is
// never one of those, and a bare value is opened with EncryptionKey, then
// each previous key (GCM's tag rejects a wrong key).
//
// Reading a value sealed with a key that is neither EncryptionKey nor in
// PreviousEncryptionKeys, or a value that is not sealed at all (written
// before encryption was turned on), fails with ErrDecodeFailed naming the key
// ids; the ciphertext is never returned as the value. DataStore.Reencrypt
// rewrites rows sealed with an old key, and seals plaintext ones.

const keyedPrefix = "s1:"

// keyID names key in sealed values and messages.
func keyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("strata/key-id/v1"), key...))
	return hex.EncodeToString(sum[:4])
}

// keyring seals with the current key and opens with it or a previous one.
type keyring struct {
	cur   *encryptor
	curID string
	ids   []string // every key id, the current one first
	byID  map[string]*encryptor
}

func newKeyring(cur []byte, previous [][]byte) (*keyring, error) {
	k := &keyring{byID: map[string]*encryptor{}}
	for i, key := range append([][]byte{cur}, previous...) {
		field := "EncryptionKey"
		if i > 0 {
			field = fmt.Sprintf("PreviousEncryptionKeys[%d]", i-1)
			if len(key) != 32 {
				return nil, fmt.Errorf("%w: %s: must be exactly 32 bytes for AES-256, got %d", ErrInvalidConfig, field, len(key))
			}
		}
		e, err := newEncryptor(key)
		if err != nil {
			return nil, err
		}
		id := keyID(key)
		if _, dup := k.byID[id]; dup {
			return nil, fmt.Errorf("%w: %s: the same key (id %s) is listed twice", ErrInvalidConfig, field, id)
		}
		k.byID[id] = e
		k.ids = append(k.ids, id)
	}
	k.cur, k.curID = k.byID[k.ids[0]], k.ids[0]
	return k, nil
}

// seal encrypts plaintext for the given cell with the current key.
func (k *keyring) seal(table, column, id, plaintext string) (string, error) {
	s, err := k.cur.seal(table, column, id, plaintext)
	if err != nil {
		return "", err
	}
	return keyedPrefix + k.curID + ":" + s, nil
}

// open decrypts a sealed cell.
func (k *keyring) open(table, column, id, sealed string) (string, error) {
	plain, _, err := k.openWith(table, column, id, sealed)
	return plain, err
}

// cellState says how a stored cell is sealed.
type cellState int

const (
	cellCurrent   cellState = iota // sealed with EncryptionKey, with its key id
	cellOld                        // sealed with a previous key, or without a key id
	cellPlaintext                  // not a sealed value
	cellUnknown                    // sealed with a key not configured (or damaged)
)

// openWith decrypts a sealed cell and says how it was sealed.
func (k *keyring) openWith(table, column, id, sealed string) (string, cellState, error) {
	if rest, ok := strings.CutPrefix(sealed, keyedPrefix); ok {
		kid, body, ok := strings.Cut(rest, ":")
		if e := k.byID[kid]; ok && e != nil {
			plain, err := e.open(table, column, id, body)
			if err != nil {
				return "", cellUnknown, fmt.Errorf("%w (key id %s)", err, kid)
			}
			if kid == k.curID {
				return plain, cellCurrent, nil
			}
			return plain, cellOld, nil
		}
		if ok && len(kid) == 8 {
			return "", cellUnknown, fmt.Errorf("%w: %s.%s of %q is sealed with key id %s, which is neither EncryptionKey (key id %s) nor in PreviousEncryptionKeys (key ids %s): add that key to PreviousEncryptionKeys",
				ErrDecodeFailed, table, column, id, kid, k.curID, strings.Join(k.ids[1:], ", "))
		}
	}
	if sealed == "" {
		_, err := k.cur.open(table, column, id, sealed) // its message explains ''
		return "", cellPlaintext, err
	}
	if raw, err := base64.StdEncoding.DecodeString(sealed); err == nil && len(raw) >= k.cur.aead.NonceSize()+k.cur.aead.Overhead() {
		for _, kid := range k.ids { // sealed before key ids: try every key
			if plain, err := k.byID[kid].open(table, column, id, sealed); err == nil {
				return plain, cellOld, nil
			}
		}
		return "", cellUnknown, fmt.Errorf("%w: %s.%s of %q opens with neither EncryptionKey (key id %s) nor PreviousEncryptionKeys (key ids %s): sealed with a key no longer configured, damaged, or plaintext written before encryption was on (DataStore.Reencrypt seals plaintext rows)",
			ErrDecodeFailed, table, column, id, k.curID, strings.Join(k.ids[1:], ", "))
	}
	return "", cellPlaintext, fmt.Errorf("%w: %s.%s of %q is plaintext, not sealed with EncryptionKey (key id %s): written before encryption was turned on or behind Strata's back; run DataStore.Reencrypt to seal such rows",
		ErrDecodeFailed, table, column, id, k.curID)
}
