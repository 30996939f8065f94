package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/strata"
)

const feedLong = `The change feed (Config.ChangeFeed) makes PostgreSQL's commit log drive
cache invalidation: one instance of the deployment streams a logical
replication slot and invalidates what every committed change touched.`

const feedStatusLong = `Report on the change feed's replication slot, from PostgreSQL's own views
(pg_replication_slots, pg_stat_replication, pg_publication_tables):

  slot         its name, plugin and database
  publication  the tables whose changes it carries
  streaming    whether an instance streams it now (pid, address, last reply)
  position     the WAL position the feed confirmed, the server's, and the
               lag between them in bytes (what the feed has not applied yet)
  WAL          whether the slot still has the WAL it needs (wal_status) and how
               much more the server keeps for it (max_slot_wal_keep_size)
  server       what keeps a feed from running: wal_level, the REPLICATION
               privilege, free slots and WAL senders

The slot is named by the deployment's Config.ChangeFeedSlot, by default
"strata_" and a hash of the invalidation channel: give the same --channel
as the deployment (default strata:invalidate), or --slot.

Exits with status 1 when the feed cannot run or nobody streams the slot: a
slot nobody reads retains WAL without bound (cap it with
max_slot_wal_keep_size), and writes made behind the library's back are not
invalidated meanwhile.`

func newFeed(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "The change feed: its replication slot, who streams it, how far behind",
		Long:  feedLong,
		Args:  args(cobra.NoArgs),
		RunE:  func(*cobra.Command, []string) error { return usageError{errors.New("say status")} },
	}
	var slot string
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Report the change feed's slot: streaming or not, lag in bytes, WAL kept",
		Long:  feedStatusLong,
		Example: `  strata feed status
  strata feed status --channel billing:invalidate
  strata feed status --slot strata_feed --json | jq .lag_bytes`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return feedStatus(cmd, o, slot, asJSON) },
	}
	status.Flags().StringVar(&slot, "slot", "", "the slot's name, Config.ChangeFeedSlot (default: derived from --channel as the library does)")
	status.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.AddCommand(status)
	return cmd
}

// feedReport is what feed status found.
type feedReport struct {
	Slot          string   `json:"slot"`
	Exists        bool     `json:"exists"`
	Plugin        string   `json:"plugin,omitempty"`
	Database      string   `json:"database,omitempty"`
	Publication   []string `json:"publication_tables"`
	HasPub        bool     `json:"publication_exists"`
	Streaming     bool     `json:"streaming"`
	PID           int32    `json:"pid,omitempty"`
	Application   string   `json:"application,omitempty"`
	Client        string   `json:"client,omitempty"`
	LastReplySec  *float64 `json:"last_reply_seconds,omitempty"`
	ConfirmedLSN  string   `json:"confirmed_lsn,omitempty"`
	ServerLSN     string   `json:"server_lsn,omitempty"`
	LagBytes      *int64   `json:"lag_bytes,omitempty"`
	WALStatus     string   `json:"wal_status,omitempty"`
	SafeWALSize   *int64   `json:"safe_wal_size,omitempty"` // absent: unlimited
	ServerProblem string   `json:"server_problem,omitempty"`
}

func feedStatus(cmd *cobra.Command, o *options, slot string, asJSON bool) error {
	dsn, err := o.needPostgres()
	if err != nil {
		return err
	}
	if slot == "" {
		slot = strata.DefaultChangeFeedSlot(o.channel)
	}
	if !changefeed.ValidSlotName(slot) {
		return usageError{fmt.Errorf("slot %q: a replication slot name is 1-63 characters of [a-z0-9_]", slot)}
	}
	ctx, cancel := o.withTimeout(cmd.Context())
	defer cancel()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return usageError{fmt.Errorf("PostgreSQL DSN: %w", err)}
	}
	cfg.MaxConns, cfg.MinConns = 1, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer pool.Close()
	r, err := readFeed(ctx, pool, slot)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printFeed(out, r)
	}
	if !r.Exists || !r.Streaming || r.ServerProblem != "" || r.WALStatus == "lost" {
		return errProblem
	}
	return nil
}

func readFeed(ctx context.Context, pool *pgxpool.Pool, slot string) (feedReport, error) {
	r := feedReport{Slot: slot, Publication: []string{}}
	var (
		plugin, database, confirmed, walStatus, app, client *string
		pid                                                 *int32
		lag, safe                                           *int64
		replyAge                                            *float64
		active                                              bool
		serverLSN                                           string
	)
	err := pool.QueryRow(ctx, `
		SELECT s.plugin, s.database, s.active, s.active_pid, s.confirmed_flush_lsn::text,
		       pg_current_wal_lsn()::text,
		       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,
		       s.wal_status, s.safe_wal_size,
		       r.application_name, r.client_addr::text,
		       extract(epoch FROM now() - r.reply_time)::float8
		FROM pg_replication_slots s
		LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
		WHERE s.slot_name = $1`, slot).
		Scan(&plugin, &database, &active, &pid, &confirmed, &serverLSN, &lag, &walStatus, &safe, &app, &client, &replyAge)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return r, fmt.Errorf("PostgreSQL: reading pg_replication_slots: %w", err)
	default:
		r.Exists, r.Streaming = true, active
		r.Plugin, r.Database, r.ConfirmedLSN, r.WALStatus = deref(plugin), deref(database), deref(confirmed), deref(walStatus)
		r.ServerLSN, r.LagBytes, r.SafeWALSize, r.LastReplySec = serverLSN, lag, safe, replyAge
		r.Application, r.Client = deref(app), deref(client)
		if pid != nil {
			r.PID = *pid
		}
	}
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", slot).Scan(&r.HasPub); err != nil {
		return r, fmt.Errorf("PostgreSQL: reading pg_publication: %w", err)
	}
	rows, err := pool.Query(ctx, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1", slot)
	if err != nil {
		return r, fmt.Errorf("PostgreSQL: reading pg_publication_tables: %w", err)
	}
	if r.Publication, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return r, fmt.Errorf("PostgreSQL: reading pg_publication_tables: %w", err)
	}
	if err := changefeed.Check(ctx, pool, slot); err != nil {
		// A missing slot is on the slot line already.
		var problems []string
		for _, e := range unjoin(err) {
			if !errors.Is(e, changefeed.ErrSlotMissing) {
				problems = append(problems, e.Error())
			}
		}
		r.ServerProblem = strings.Join(problems, "; ")
	}
	return r, nil
}

// unjoin returns the errors joined in err (err itself when it is not a
// join).
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func printFeed(out io.Writer, r feedReport) {
	if !r.Exists {
		fmt.Fprintf(out, "slot         %s  does not exist: no instance with ChangeFeed has run Migrate on this database (or the deployment uses another --channel or --slot)\n", r.Slot)
	} else {
		fmt.Fprintf(out, "slot         %s  (%s, database %s)\n", r.Slot, r.Plugin, r.Database)
	}
	switch {
	case !r.HasPub:
		fmt.Fprintf(out, "publication  %s  does not exist\n", r.Slot)
	case len(r.Publication) == 0:
		fmt.Fprintf(out, "publication  %s  holds no table\n", r.Slot)
	default:
		fmt.Fprintf(out, "publication  %s  %s\n", r.Slot, strings.Join(r.Publication, ", "))
	}
	if r.Exists {
		if r.Streaming {
			who := fmt.Sprintf("pid %d", r.PID)
			if r.Application != "" {
				who += fmt.Sprintf(", application %q", r.Application)
			}
			if r.Client != "" {
				who += " from " + r.Client
			}
			if r.LastReplySec != nil {
				who += fmt.Sprintf(", last reply %s ago", time.Duration(*r.LastReplySec*float64(time.Second)).Round(time.Millisecond))
			}
			fmt.Fprintf(out, "streaming    yes: %s\n", who)
		} else {
			fmt.Fprintln(out, "streaming    NO: no instance streams the slot; the server keeps WAL for it and outside writes are not invalidated meanwhile")
		}
		if r.LagBytes != nil {
			fmt.Fprintf(out, "position     confirmed %s, server at %s: %s behind\n", r.ConfirmedLSN, r.ServerLSN, bytesText(*r.LagBytes))
		}
		wal := r.WALStatus
		if r.SafeWALSize == nil {
			wal += "; no limit on the WAL kept for it (max_slot_wal_keep_size = -1)"
		} else {
			wal += fmt.Sprintf("; %s more WAL can be kept for it before the server invalidates it", bytesText(*r.SafeWALSize))
		}
		fmt.Fprintf(out, "WAL          %s\n", wal)
	}
	if r.ServerProblem != "" {
		fmt.Fprintf(out, "server       %s\n", r.ServerProblem)
	} else {
		fmt.Fprintln(out, "server       ok: wal_level logical, REPLICATION privilege, a free WAL sender")
	}
}

// bytesText prints a byte count with a binary unit.
func bytesText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
