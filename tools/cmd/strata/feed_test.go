package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/strata"
)

// TestFeedStatusFollowsTheSlot: before Migrate the slot does not exist
// (exit 1); with an instance running ChangeFeed it streams, with its
// tables and lag reported (exit 0); once the instance is gone nobody
// streams it (exit 1). The slot name is derived from --channel as the
// library derives it.
func TestFeedStatusFollowsTheSlot(t *testing.T) {
	t.Parallel()
	dsn, addr := servers(t)
	dsn, _, pgs := pgSchema(t, dsn)
	channel := "cli:feed:" + suffix()
	slot := strata.DefaultChangeFeedSlot(channel)
	env := stack(dsn, addr)
	ctx := ctxT(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // after the drop below: cleanups run last-in first-out
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for { // the consumer's session may need a moment to end
			err := changefeed.DropSlot(ctx, pool, slot)
			if err == nil || ctx.Err() != nil {
				if err != nil {
					t.Errorf("dropping slot %s: %v", slot, err)
				}
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := changefeed.DropPublication(ctx, pool, slot); err != nil {
			t.Errorf("dropping publication %s: %v", slot, err)
		}
	})

	r := cli(t, env, "feed", "status", "--channel", channel)
	if r.code != exitFail || !strings.Contains(r.out, "slot         "+slot+"  does not exist") {
		t.Errorf("before Migrate: exit %d:\n%s%s", r.code, r.out, r.err)
	}

	schema := "fd_" + suffix()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: channel, ChangeFeed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: schema, Model: &player{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the instance streams the slot", func() bool {
		r = cli(t, env, "feed", "status", "--channel", channel)
		return r.code == exitOK
	})
	for _, want := range []string{
		"slot         " + slot + "  (pgoutput, database ",
		"publication  " + slot + "  " + pgs + "." + schema,
		"streaming    yes: pid ",
		"position     confirmed ",
		"server       ok",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("feed status lacks %q:\n%s", want, r.out)
		}
	}
	r = cli(t, env, "feed", "status", "--slot", slot, "--json")
	var js feedReport
	if err := json.Unmarshal([]byte(r.out), &js); err != nil || !js.Streaming || js.LagBytes == nil || *js.LagBytes < 0 || js.Slot != slot {
		t.Errorf("feed status --json: %v\n%s", err, r.out)
	}

	ds.Close()
	eventually(t, 30*time.Second, "the slot is no longer streamed", func() bool {
		r = cli(t, env, "feed", "status", "--channel", channel)
		return r.code == exitFail && strings.Contains(r.out, "streaming    NO")
	})
}
