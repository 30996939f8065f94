package strata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/strata/clock"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"L1Pool.MaxEntries", c.L1Pool.MaxEntries, 100_000},
		{"L1Pool.Eviction", c.L1Pool.Eviction, EvictLRU},
		{"L3Pool.MaxConns", c.L3Pool.MaxConns, int32(20)},
		{"L3Pool.MinConns", c.L3Pool.MinConns, int32(2)},
		{"L3Pool.MaxConnLifetime", c.L3Pool.MaxConnLifetime, 30 * time.Minute},
		{"L3Pool.MaxConnIdleTime", c.L3Pool.MaxConnIdleTime, 10 * time.Minute},
		{"DefaultL1TTL", c.DefaultL1TTL, 5 * time.Minute},
		{"DefaultL2TTL", c.DefaultL2TTL, 30 * time.Minute},
		{"DefaultWriteMode", c.DefaultWriteMode, WriteThrough},
		{"WriteBehindFlushInterval", c.WriteBehindFlushInterval, 500 * time.Millisecond},
		{"WriteBehindFlushThreshold", c.WriteBehindFlushThreshold, 100},
		{"WriteBehindMaxRetry", c.WriteBehindMaxRetry, 5},
		{"InvalidationChannel", c.InvalidationChannel, "strata:invalidate"},
		{"InvalidationHealthCheck", c.InvalidationHealthCheck, time.Second},
		{"Codec", c.Codec, codec.Codec(codec.MsgPack{})},
		{"Clock", c.Clock, clock.Clock(clock.Real{})},
		{"Metrics", c.Metrics, metrics.MetricsRecorder(metrics.Noop{})},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigKeepsExplicitValues(t *testing.T) {
	t.Parallel()
	c, err := Config{DefaultL1TTL: time.Second, DefaultWriteMode: WriteBehind, Codec: codec.JSON{}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultL1TTL != time.Second || c.DefaultWriteMode != WriteBehind || c.Codec != codec.Codec(codec.JSON{}) {
		t.Errorf("explicit values overwritten: %+v", c)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"short key", Config{EncryptionKey: make([]byte, 16)}, "EncryptionKey"},
		{"long key", Config{EncryptionKey: make([]byte, 33)}, "EncryptionKey"},
		{"negative ttl", Config{DefaultL2TTL: -time.Second}, "DefaultL2TTL"},
		{"negative retry", Config{WriteBehindMaxRetry: -1}, "WriteBehindMaxRetry"},
		{"min over max", Config{L3Pool: L3PoolConfig{MaxConns: 2, MinConns: 5}}, "L3Pool.MinConns"},
		{"unknown write mode", Config{DefaultWriteMode: 9}, "DefaultWriteMode"},
		{"unknown eviction", Config{L1Pool: L1PoolConfig{Eviction: 7}}, "L1Pool.Eviction"},
		{"health check too short", Config{InvalidationHealthCheck: time.Millisecond}, "InvalidationHealthCheck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.cfg.withDefaults()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error = %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
		})
	}
}
