package l3postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// slowWrites makes every write to the fixture's players table take 3 s,
// at the statement (a row trigger) or, when atCommit, at COMMIT (a deferred
// constraint trigger). The trigger ignores the cancel request pgx sends when
// the caller's context ends, as a server that was frozen meanwhile (or
// reached the COMMIT first) would: the write is applied after the caller
// gave up. 3 s leaves a wide window for checking that the backend still
// runs after the caller's 200 ms deadline, even on a loaded machine.
//
// The whole wait, its loop test included, runs inside the block that
// catches the cancel, and a caught cancel starts the rest of the wait in a
// new such block: a backend checks for a cancel between any two PL/pgSQL
// statements, and with the loop test outside the block a cancel that
// arrived while the backend was descheduled there ended the statement (CI
// run 46: "right after the deadline backend 7154 is not listed").
func slowWrites(t *testing.T, f *fixture, atCommit bool) {
	t.Helper()
	ctx := testCtx(t)
	wait := pgx.Identifier{f.schema, "slow_wait"}.Sanitize()
	fn := pgx.Identifier{f.schema, "slow"}.Sanitize()
	tbl := pgx.Identifier{f.schema, "players"}.Sanitize()
	stmts := []string{
		`CREATE FUNCTION ` + wait + `(until timestamptz) RETURNS void LANGUAGE plpgsql AS $$
			BEGIN
				BEGIN
					WHILE clock_timestamp() < until LOOP
						PERFORM pg_sleep(0.02);
					END LOOP;
				EXCEPTION WHEN query_canceled THEN
					PERFORM ` + wait + `(until);
				END;
			END $$`,
		`CREATE FUNCTION ` + fn + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				PERFORM ` + wait + `(clock_timestamp() + interval '3 s');
				RETURN NULL;
			END $$`,
	}
	if atCommit {
		stmts = append(stmts, `CREATE CONSTRAINT TRIGGER slow AFTER INSERT OR UPDATE OR DELETE ON `+tbl+
			` DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION `+fn+`()`)
	} else {
		stmts = append(stmts, `CREATE TRIGGER slow AFTER INSERT OR UPDATE OR DELETE ON `+tbl+
			` FOR EACH ROW EXECUTE FUNCTION `+fn+`()`)
	}
	for _, s := range stmts {
		if _, err := f.pool.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteOutcomeUnknown: a write whose context ends while the server runs
// it fails with an *OutcomeUnknownError naming its backend; the server goes
// on and applies it, and once BackendsAlive no longer lists the backend the
// row is there. A write the server refuses is not "unknown".
func TestWriteOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		atCommit bool
		write    func(ctx context.Context, f *fixture, p *player) error
	}{
		{"Upsert", false, func(ctx context.Context, f *fixture, p *player) error {
			return f.tbl.Upsert(ctx, p.values()...)
		}},
		{"UpsertMany", true, func(ctx context.Context, f *fixture, p *player) error {
			_, err := f.tbl.UpsertMany(ctx, [][]any{p.values()})
			return err
		}},
		{"InTx", true, func(ctx context.Context, f *fixture, p *player) error {
			return f.db.InTx(ctx, func(tx *l3postgres.Tx) error { return f.tbl.On(tx).Upsert(ctx, p.values()...) })
		}},
		{"DeleteByID", false, func(ctx context.Context, f *fixture, p *player) error {
			_, err := f.tbl.DeleteByID(ctx, p.ID)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := testCtx(t)
			p := &player{ID: "u1", Name: "before", Level: 1, CreatedAt: t0}
			if err := f.tbl.Upsert(ctx, p.values()...); err != nil {
				t.Fatal(err)
			}
			// A refused write is known not to be applied.
			dup := &player{ID: "u2", Name: "before", CreatedAt: t0}
			if err := tc.write(ctx, f, dup); tc.name != "DeleteByID" && (err == nil || errors.Is(err, l3postgres.ErrOutcomeUnknown)) {
				t.Errorf("a unique violation: %v, want a plain error (not applied)", err)
			}
			slowWrites(t, f, tc.atCommit)
			p.Name = "after"
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			err := tc.write(short, f, p)
			cancel()
			var unknown *l3postgres.OutcomeUnknownError
			if !errors.As(err, &unknown) || !errors.Is(err, l3postgres.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("write cut by its deadline: %v, want an *OutcomeUnknownError wrapping the deadline", err)
			}
			if unknown.Backend == 0 {
				t.Fatal("the error names no backend")
			}
			if alive, err := f.db.BackendsAlive(ctx, []uint32{unknown.Backend}); err != nil || !alive[unknown.Backend] {
				t.Fatalf("right after the deadline backend %d is not listed (%v): the write was still running", unknown.Backend, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				alive, err := f.db.BackendsAlive(ctx, []uint32{unknown.Backend})
				if err != nil {
					t.Fatal(err)
				}
				if !alive[unknown.Backend] {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("backend %d still runs", unknown.Backend)
				}
				time.Sleep(20 * time.Millisecond)
			}
			var name string
			err = f.pool.QueryRow(ctx, fmt.Sprintf("SELECT name FROM %s WHERE id = 'u1'", pgx.Identifier{f.schema, "players"}.Sanitize())).Scan(&name)
			want := "after"
			if tc.name == "DeleteByID" {
				if !errors.Is(err, pgx.ErrNoRows) {
					t.Errorf("after the backend ended: %q, %v; want the row deleted", name, err)
				}
				return
			}
			if err != nil || name != want {
				t.Errorf("after the backend ended the row holds %q, %v; want %q (applied after the caller gave up)", name, err, want)
			}
		})
	}
}
