package strata_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// quiet drops go-redis's own log lines (reconnects, Sentinel discovery),
// which the tests provoke on purpose.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Every DataStore the tests open is closed, so no goroutine may outlive them.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	goleak.VerifyTestMain(m)
}
