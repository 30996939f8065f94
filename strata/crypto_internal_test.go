package strata

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncryptorRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	e, err := newEncryptor(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := e.seal("players", "api_key", "p1", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(sealed), []byte("secret")) {
		t.Fatalf("sealed value %q contains the plaintext", sealed)
	}
	again, _ := e.seal("players", "api_key", "p1", "secret")
	if again == sealed {
		t.Error("two seals of the same value are identical: the nonce is not random")
	}
	if got, err := e.open("players", "api_key", "p1", sealed); err != nil || got != "secret" {
		t.Fatalf("open = %q, %v", got, err)
	}
	tests := []struct{ name, table, column, id, sealed string }{
		{"other row", "players", "api_key", "p2", sealed},
		{"other column", "players", "password", "p1", sealed},
		{"other table", "admins", "api_key", "p1", sealed},
		{"tampered", "players", "api_key", "p1", sealed[:len(sealed)-4] + "AAAA"},
		{"not base64", "players", "api_key", "p1", "%%%"},
		{"too short", "players", "api_key", "p1", "AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.open(tt.table, tt.column, tt.id, tt.sealed); !errors.Is(err, ErrDecodeFailed) {
				t.Errorf("open error = %v, want one wrapping ErrDecodeFailed", err)
			}
		})
	}
}

// TestEncryptorSealsEmptyAndRefusesEmpty: "" is sealed to a non-empty
// value that opens to "", and an empty sealed value never opens.
func TestEncryptorSealsEmptyAndRefusesEmpty(t *testing.T) {
	t.Parallel()
	e, err := newEncryptor(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := e.seal("players", "api_key", "p1", "")
	if err != nil || sealed == "" {
		t.Fatalf("seal(\"\") = %q, %v; want a non-empty sealed value", sealed, err)
	}
	if got, err := e.open("players", "api_key", "p1", sealed); err != nil || got != "" {
		t.Errorf("open(seal(\"\")) = %q, %v", got, err)
	}
	if got, err := e.open("players", "api_key", "p1", ""); !errors.Is(err, ErrDecodeFailed) {
		t.Errorf("open(\"\") = %q, %v; want ErrDecodeFailed", got, err)
	}
}
