package integration_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// TestChangeFeedMigrateExplainsWhatTheServerLacks: Migrate on a PostgreSQL
// without logical replication says what to change, and so does Ping.
func TestChangeFeedMigrateExplainsWhatTheServerLacks(t *testing.T) {
	t.Parallel()
	pg := pgkit.StartServer(t) // initdb's defaults: wal_level = replica
	ds := open(t, strata.Config{PostgresDSN: pg.DSN, ChangeFeed: true},
		strata.Schema{Name: "feed_" + testkit.Suffix(), Model: &Score{}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := ds.Migrate(ctx)
	if !errors.Is(err, strata.ErrChangeFeed) || !errors.Is(err, changefeed.ErrNotLogical) {
		t.Fatalf("Migrate = %v, want ErrChangeFeed wrapping changefeed.ErrNotLogical", err)
	}
	if !strings.Contains(err.Error(), "wal_level = logical") {
		t.Errorf("the error does not say what to set: %v", err)
	}
	t.Logf("Migrate said: %v", err)
	if err := ds.Ping(ctx); !errors.Is(err, strata.ErrChangeFeed) || !errors.Is(err, changefeed.ErrNotLogical) {
		t.Errorf("Ping = %v, want ErrChangeFeed wrapping changefeed.ErrNotLogical", err)
	}
}
