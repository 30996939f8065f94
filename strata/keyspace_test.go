package strata_test

import (
	"errors"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestRegisterRefusesCollidingKeyPrefixes: a prefix that could reach another
// key space is refused with ErrInvalidModel.
func TestRegisterRefusesCollidingKeyPrefixes(t *testing.T) {
	t.Parallel()
	addr := testenv.RedisAddr(t)
	sfx := testenv.Suffix()
	ds := openStore(t, strata.Config{RedisAddr: addr, InvalidationChannel: "strata:test:" + sfx},
		strata.Schema{Name: "first_" + sfx, Model: &Account{}, L3: strata.PostgresPolicy{Disabled: true}})
	tests := []struct {
		name   string
		prefix string
	}{
		{"reserved mark", "#gen"},
		{"colon", "a:b"},
		{"used by another schema", "first_" + sfx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ds.Register(strata.Schema{Name: "s_" + testenv.Suffix(), Model: &Account{}, L2: strata.RedisPolicy{KeyPrefix: tt.prefix}})
			if !errors.Is(err, strata.ErrInvalidModel) {
				t.Errorf("Register with L2.KeyPrefix %q = %v, want ErrInvalidModel", tt.prefix, err)
			}
		})
	}
}
