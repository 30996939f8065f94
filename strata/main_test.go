package strata_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// quiet drops go-redis's own log lines (reconnects, Sentinel discovery),
// which the tests provoke on purpose.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Every DataStore the tests open is closed, so no goroutine may outlive them.
func TestMain(m *testing.M) {
	if runFeedChild() { // helper processes of the change-feed tests
		return
	}
	// Drop the replication slots that killed test processes left behind.
	if _, err := testenv.DropLeakedSlots(os.Getenv("STRATA_POSTGRES_DSN")); err != nil {
		fmt.Fprintln(os.Stderr, "strata tests: dropping leaked test slots:", err)
	}
	redis.SetLogger(quiet{})
	skipServerExamples() // see example_features_test.go
	goleak.VerifyTestMain(m)
}
