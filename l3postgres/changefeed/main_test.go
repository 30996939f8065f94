package changefeed_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
)

func TestMain(m *testing.M) {
	// Remove the slots that killed test processes left (they retain WAL).
	if dsn := os.Getenv("STRATA_POSTGRES_DSN"); dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if pool, err := pgxpool.New(ctx, dsn); err == nil {
			if n, err := pgtest.DropLeakedSlots(ctx, pool); err != nil {
				fmt.Fprintf(os.Stderr, "changefeed tests: dropping leaked test slots: %v\n", err)
			} else if n > 0 {
				fmt.Fprintf(os.Stderr, "changefeed tests: dropped %d leaked test slots\n", n)
			}
			pool.Close()
		}
		cancel()
	}
	goleak.VerifyTestMain(m)
}
