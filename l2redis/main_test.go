package l2redis_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// quietLogger drops go-redis's log lines: several tests talk to servers that
// are down on purpose, and the dial failures they log would bury the test
// output. Set L2REDIS_TEST_REDIS_LOG=1 to see them.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	if os.Getenv("L2REDIS_TEST_REDIS_LOG") != "1" {
		redis.SetLogger(quietLogger{})
	}
	code := m.Run()
	redistest.Shutdown()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
