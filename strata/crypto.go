package strata

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// encryptor seals encrypted fields for L3 with AES-256-GCM.
//
// A sealed value is base64(nonce || ciphertext || tag), stored in the TEXT
// column. The nonce is random for every write. The associated data binds the
// ciphertext to its table, column and primary key, so a ciphertext copied to
// another row or column fails to open instead of decrypting to a value that
// belongs elsewhere.
//
// An empty plaintext is sealed like any other, so an empty column is never a
// sealed value and fails to open: a column blanked behind Strata's back is
// an error, not "". Strata has always sealed empty strings, so no row it
// wrote holds an empty column. A NULL in a nullable encrypted column (an
// encrypted field added to a table that had rows) reads as "".
type encryptor struct {
	aead cipher.AEAD
}

func newEncryptor(key []byte) (*encryptor, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: EncryptionKey: %w", ErrInvalidConfig, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: EncryptionKey: %w", ErrInvalidConfig, err)
	}
	return &encryptor{aead: aead}, nil
}

func associatedData(table, column, id string) []byte {
	// Lengths first, so ("ab","c") and ("a","bc") never collide.
	return fmt.Appendf(nil, "strata/v1 %d:%s %d:%s %d:%s", len(table), table, len(column), column, len(id), id)
}

// seal encrypts plaintext for the given cell.
func (e *encryptor) seal(table, column, id, plaintext string) (string, error) {
	nonce := make([]byte, e.aead.NonceSize(), e.aead.NonceSize()+len(plaintext)+e.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("%w: %s.%s: read nonce: %w", ErrEncodeFailed, table, column, err)
	}
	sealed := e.aead.Seal(nonce, nonce, []byte(plaintext), associatedData(table, column, id))
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// open decrypts a sealed cell; it fails for a value sealed for another cell.
func (e *encryptor) open(table, column, id, sealed string) (string, error) {
	if sealed == "" {
		return "", fmt.Errorf("%w: %s.%s of %q: the column is empty, which is never a sealed value (changed outside Strata, or written without EncryptionKey)", ErrDecodeFailed, table, column, id)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("%w: %s.%s of %q: not a sealed value: %w", ErrDecodeFailed, table, column, id, err)
	}
	ns := e.aead.NonceSize()
	if len(raw) < ns+e.aead.Overhead() {
		return "", fmt.Errorf("%w: %s.%s of %q: sealed value too short", ErrDecodeFailed, table, column, id)
	}
	plain, err := e.aead.Open(nil, raw[:ns], raw[ns:], associatedData(table, column, id))
	if err != nil {
		return "", fmt.Errorf("%w: %s.%s of %q: %w", ErrDecodeFailed, table, column, id, err)
	}
	return string(plain), nil
}
