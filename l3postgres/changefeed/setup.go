package changefeed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is what the setup functions need of a connection: a *pgx.Conn,
// a *pgxpool.Pool or a pgx.Tx.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// EnsurePublication creates the publication name for tables (names resolved
// through the search path, or schema-qualified as "schema.table") if it
// does not exist, and adds to it those of tables it lacks. It never removes
// a table: instances of an older release may still watch it. The
// publication publishes changes of partitions as their root table
// (publish_via_partition_root). Every table must have a primary key (an
// UPDATE or DELETE on a published table without one fails for every
// writer), else the error wraps ErrNoPrimaryKey and nothing is changed.
//
// It may run inside a transaction, and concurrently with itself.
func EnsurePublication(ctx context.Context, db Querier, name string, tables []string) error {
	if !validIdent(name) {
		return fmt.Errorf("%w: publication name %q must be 1-63 letters, digits or underscores", ErrInvalidConfig, name)
	}
	idents := make([]string, len(tables))
	for i, t := range tables {
		ident := pgx.Identifier(strings.Split(t, "."))
		idents[i] = ident.Sanitize()
		var hasPK bool
		err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = $1::regclass AND indisprimary)`, idents[i]).Scan(&hasPK)
		if err != nil {
			return fmt.Errorf("changefeed: publication %s: table %s: %w", name, t, err)
		}
		if !hasPK {
			return fmt.Errorf("%w: %s (publishing it would make every UPDATE and DELETE on it fail)", ErrNoPrimaryKey, t)
		}
	}
	var exists bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("changefeed: publication %s: %w", name, err)
	}
	pub := pgx.Identifier{name}.Sanitize()
	if !exists {
		sql := "CREATE PUBLICATION " + pub
		if len(idents) > 0 {
			sql += " FOR TABLE " + strings.Join(idents, ", ")
		}
		sql += " WITH (publish_via_partition_root = true)"
		_, err := db.Exec(ctx, sql)
		if err == nil {
			return nil
		}
		if !isCode(err, "42710") && !isCode(err, "23505") { // created concurrently
			return fmt.Errorf("changefeed: create publication %s: %w", name, err)
		}
	}
	for i, ident := range idents {
		var member bool
		err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
WHERE p.pubname = $1 AND pr.prrelid = $2::regclass)`, name, ident).Scan(&member)
		if err != nil {
			return fmt.Errorf("changefeed: publication %s: %w", name, err)
		}
		if member {
			continue
		}
		if _, err := db.Exec(ctx, "ALTER PUBLICATION "+pub+" ADD TABLE "+ident); err != nil && !isCode(err, "42710") && !isCode(err, "23505") {
			return fmt.Errorf("changefeed: add %s to publication %s: %w", tables[i], name, err)
		}
	}
	return nil
}

// EnsureSlot creates the logical replication slot name with the pgoutput
// plugin if it does not exist. Run it outside any transaction, after the
// DDL of the published tables has committed: creating a slot waits until
// every transaction that was writing when it began has ended. The slot
// retains WAL from then on until a consumer confirms it (see the package
// overview on dropping it).
func EnsureSlot(ctx context.Context, db Querier, name string) error {
	if !ValidSlotName(name) {
		return fmt.Errorf("%w: slot name %q must be 1-63 characters of [a-z0-9_]", ErrInvalidConfig, name)
	}
	var plugin *string
	err := db.QueryRow(ctx, `SELECT plugin FROM pg_replication_slots WHERE slot_name = $1`, name).Scan(&plugin)
	switch {
	case err == nil:
		if plugin == nil || *plugin != "pgoutput" {
			return fmt.Errorf("%w: slot %s exists but is not a pgoutput logical slot", ErrInvalidConfig, name)
		}
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("changefeed: read slot %s: %w", name, err)
	}
	if err := Check(ctx, db, name); err != nil && !errors.Is(err, ErrSlotMissing) {
		return err
	}
	_, err = db.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, name)
	if err != nil && !isCode(err, "42710") && !isCode(err, "23505") { // created concurrently
		return fmt.Errorf("changefeed: create slot %s: %w", name, explain(err))
	}
	return nil
}

// DropSlot drops the slot name, releasing the WAL it retains. It fails with
// ErrSlotActive while a consumer streams it; a missing slot is not an error.
func DropSlot(ctx context.Context, db Querier, name string) error {
	_, err := db.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
	if isCode(err, "55006") {
		return fmt.Errorf("%w: %s: %w", ErrSlotActive, name, err)
	}
	if err != nil {
		return fmt.Errorf("changefeed: drop slot %s: %w", name, err)
	}
	return nil
}

// DropPublication drops the publication name if it exists.
func DropPublication(ctx context.Context, db Querier, name string) error {
	if _, err := db.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("changefeed: drop publication %s: %w", name, err)
	}
	return nil
}

// Check explains what keeps the server from running a feed on slot: a
// wal_level other than logical (ErrNotLogical), a role without the
// REPLICATION attribute (ErrNoReplicationPrivilege), no free replication
// slot for a slot that does not exist yet or no free WAL sender
// (ErrNoFreeSlot), or a slot not created yet (ErrSlotMissing). Every
// problem found is reported, joined; nil means a Feed can stream slot.
func Check(ctx context.Context, db Querier, slot string) error {
	var (
		walLevel, role                  string
		replication                     bool
		slotExists                      bool
		slots, maxSlots, senders, maxWS int
	)
	err := db.QueryRow(ctx, `SELECT current_setting('wal_level'), current_user::text,
  (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user),
  EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1),
  (SELECT count(*) FROM pg_replication_slots), current_setting('max_replication_slots')::int,
  (SELECT count(*) FROM pg_stat_replication), current_setting('max_wal_senders')::int`, slot).
		Scan(&walLevel, &role, &replication, &slotExists, &slots, &maxSlots, &senders, &maxWS)
	if err != nil {
		return fmt.Errorf("changefeed: check the server: %w", err)
	}
	var errs []error
	if walLevel != "logical" {
		errs = append(errs, fmt.Errorf("%w: it is %q; set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL", ErrNotLogical, walLevel))
	}
	if !replication {
		errs = append(errs, fmt.Errorf("%w: role %q; grant it with ALTER ROLE %s REPLICATION, or connect as a role that has it", ErrNoReplicationPrivilege, role, pgx.Identifier{role}.Sanitize()))
	}
	if !slotExists && slots >= maxSlots {
		errs = append(errs, fmt.Errorf("%w: all %d of max_replication_slots are in use; raise it (needs a restart) or drop an unused slot (pg_drop_replication_slot)", ErrNoFreeSlot, maxSlots))
	}
	if senders >= maxWS {
		errs = append(errs, fmt.Errorf("%w: all %d of max_wal_senders are busy; raise it (needs a restart)", ErrNoFreeSlot, maxWS))
	}
	if !slotExists && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%w: %q (Migrate, or EnsureSlot, creates it)", ErrSlotMissing, slot))
	}
	return errors.Join(errs...)
}

// explain maps the server's refusals to this package's sentinels.
func explain(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.Code == "55000" && strings.Contains(pgErr.Message, "wal_level"):
		return fmt.Errorf("%w: %w", ErrNotLogical, err)
	case pgErr.Code == "42501":
		return fmt.Errorf("%w: %w", ErrNoReplicationPrivilege, err)
	case pgErr.Code == "53400":
		return fmt.Errorf("%w: %w", ErrNoFreeSlot, err)
	}
	return err
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
