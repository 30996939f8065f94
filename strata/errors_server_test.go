package strata_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// Member has a unique column and a plain time, for the error paths below.
type Member struct {
	ID    string `strata:"primary_key"`
	Email string `strata:"unique"`
	Name  string
	Born  time.Time
}

// TestEveryErrorWrapsASentinel forces every error path of the PostgreSQL
// tier that a test can reach and checks that each error wraps the sentinel
// a caller would test for, and names "strata:" once.
func TestEveryErrorWrapsASentinel(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	sfx := testenv.Suffix()
	members, fresh, drifted, orphan := "mem_"+sfx, "never_"+sfx, "drift_"+sfx, "orphan_"+sfx
	pg := pgTable(t, dsn, members)
	for _, tbl := range []string{fresh, drifted, orphan} {
		pgTable(t, dsn, tbl)
	}
	// drifted has Born as text; orphan has a NOT NULL column Member lacks
	// and no Born column.
	for _, ddl := range []string{
		"CREATE TABLE " + pgx.Identifier{drifted}.Sanitize() + " (id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, born TEXT NOT NULL)",
		"CREATE TABLE " + pgx.Identifier{orphan}.Sanitize() + " (id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, born TIMESTAMPTZ NOT NULL, legacy TEXT NOT NULL)",
	} {
		if _, err := pg.Exec(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}

	ds := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: members, Model: &Member{}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fresh, orphan} { // registered after Migrate: never migrated
		if err := ds.Register(strata.Schema{Name: name, Model: &Member{}}); err != nil {
			t.Fatal(err)
		}
	}
	// An older table, made before Member had Name and Born.
	pgTable(t, dsn, members+"_v0")
	if _, err := pg.Exec(ctx, "CREATE TABLE "+pgx.Identifier{members + "_v0"}.Sanitize()+" (id TEXT PRIMARY KEY, email TEXT NOT NULL); INSERT INTO "+
		pgx.Identifier{members + "_v0"}.Sanitize()+" VALUES ('v0', 'v0@x')"); err != nil {
		t.Fatal(err)
	}
	newer := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: "new", Model: &Member{}, L3: strata.PostgresPolicy{TableName: members + "_v0"}})
	driftStore := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: drifted, Model: &Member{}})

	if err := ds.Set(ctx, members, "a", &Member{ID: "a", Email: "a@x", Born: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cached := openStore(t, strata.Config{PostgresDSN: dsn, RedisAddr: testenv.RedisAddr(t), InvalidationChannel: "strata:test:" + sfx},
		strata.Schema{Name: members, Model: &Member{}})
	down := openStore(t, strata.Config{PostgresDSN: "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}, strata.Schema{Name: members, Model: &Member{}})
	slow := openStore(t, strata.Config{PostgresDSN: withParam(t, dsn, "options=-c%20statement_timeout%3D50")}, strata.Schema{Name: members, Model: &Member{}})
	closed, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Register(strata.Schema{Name: members, Model: &Member{}}); err != nil {
		t.Fatal(err)
	}
	closed.Close()

	var got Member
	var list []Member
	tests := []struct {
		name string
		call func() error
		want []error
	}{
		{"unique violation on Set", func() error {
			return ds.Set(ctx, members, "b", &Member{ID: "b", Email: "a@x"})
		}, []error{strata.ErrConflict, l3postgres.ErrConflict}},
		{"unique violation on SetMany", func() error {
			return ds.SetMany(ctx, members, map[string]any{"c": &Member{ID: "c", Email: "a@x"}})
		}, []error{strata.ErrConflict}},
		{"unique violation in a Tx", func() error {
			return ds.Tx(ctx).Set(members, "d", &Member{ID: "d", Email: "a@x"}).Commit()
		}, []error{strata.ErrTxFailed, strata.ErrConflict}},
		{"table never migrated: Get", func() error { return ds.Get(ctx, fresh, "a", &got) }, []error{strata.ErrNotMigrated}},
		{"table never migrated: Set", func() error { return ds.Set(ctx, fresh, "a", &Member{ID: "a"}) }, []error{strata.ErrNotMigrated}},
		{"table never migrated: Delete", func() error { return ds.Delete(ctx, fresh, "a") }, []error{strata.ErrNotMigrated}},
		{"table never migrated: Exists", func() error { _, err := ds.Exists(ctx, fresh, "a"); return err }, []error{strata.ErrNotMigrated}},
		{"table never migrated: Search", func() error { return ds.Search(ctx, fresh, nil, &list) }, []error{strata.ErrNotMigrated}},
		{"table never migrated: Count", func() error { _, err := ds.Count(ctx, fresh, nil); return err }, []error{strata.ErrNotMigrated}},
		{"column never migrated: Get", func() error { return newer.Get(ctx, "new", "v0", &got) }, []error{strata.ErrNotMigrated}},
		{"column never migrated: Search", func() error { return newer.Search(ctx, "new", nil, &list) }, []error{strata.ErrNotMigrated}},
		{"NOT NULL column the model lacks", func() error {
			return ds.Set(ctx, orphan, "a", &Member{ID: "a", Email: "o@x", Born: time.Now()})
		}, []error{strata.ErrConstraint}},
		{"NUL byte in id: Get", func() error { return ds.Get(ctx, members, "a\x00b", &got) }, []error{strata.ErrInvalidModel}},
		{"NUL byte in id: Delete", func() error { return ds.Delete(ctx, members, "a\x00b") }, []error{strata.ErrInvalidModel}},
		{"NUL byte in id: Exists", func() error { _, err := ds.Exists(ctx, members, "a\x00b"); return err }, []error{strata.ErrInvalidModel}},
		{"NUL byte in id: GetMany", func() error {
			_, err := strata.GetManyTyped[Member](ctx, ds, members, []string{"a", "a\x00b"})
			return err
		}, []error{strata.ErrInvalidModel}},
		{"NUL byte in id: Set", func() error { return ds.Set(ctx, members, "e\x00", &Member{ID: "e\x00", Email: "e@x"}) }, []error{strata.ErrInvalidModel}},
		{"NUL byte in id: Tx Delete", func() error { return ds.Tx(ctx).Delete(members, "e\x00").Commit() }, []error{strata.ErrInvalidModel}},
		{"NUL byte in a string field", func() error {
			return ds.Set(ctx, members, "e", &Member{ID: "e", Email: "e@x", Name: "a\x00b"})
		}, []error{strata.ErrInvalidModel}},
		{"invalid UTF-8 in a string field", func() error {
			return ds.Set(ctx, members, "e", &Member{ID: "e", Email: "e@x", Name: "a\xffb"})
		}, []error{strata.ErrInvalidModel}},
		{"NUL byte in a string field, SetMany", func() error {
			return ds.SetMany(ctx, members, map[string]any{"e": &Member{ID: "e", Email: "\x00"}})
		}, []error{strata.ErrInvalidModel}},
		{"time after 294276 AD", func() error {
			return ds.Set(ctx, members, "e", &Member{ID: "e", Email: "e@x", Born: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, []error{strata.ErrInvalidModel}},
		{"time far past int64 microseconds", func() error {
			return ds.Set(ctx, members, "e", &Member{ID: "e", Email: "e@x", Born: time.Date(1_000_000_000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, []error{strata.ErrInvalidModel}},
		{"time before 4714 BC", func() error {
			return ds.Set(ctx, members, "e", &Member{ID: "e", Email: "e@x", Born: time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, []error{strata.ErrInvalidModel}},
		{"placeholder without an argument", func() error {
			q := strata.Q().Where("email > $1 AND email < $2", "a").Limit(3).Build()
			return ds.Search(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery, l3postgres.ErrInvalidQuery}},
		{"? placeholders", func() error {
			q := strata.Q().Where("email = ?", "a").Build()
			_, err := ds.Count(ctx, members, &q)
			return err
		}, []error{strata.ErrInvalidQuery}},
		{"unknown column in Where", func() error {
			q := strata.Q().Where("nosuch = $1", "a").Build()
			return ds.Search(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery}},
		{"argument of the wrong type", func() error {
			q := strata.Q().Where("born > $1", "yesterday-ish").Build()
			return ds.Search(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery}},
		{"unknown OrderBy", func() error {
			q := strata.Q().OrderBy("nosuch").Build()
			return ds.Search(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery}},
		{"unknown Fields", func() error {
			q := strata.Q().Fields("nosuch").Build()
			return ds.Search(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery}},
		{"negative Limit", func() error {
			q := strata.Q().Limit(-1).Build()
			return ds.Search(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery}},
		{"SearchCached argument that cannot be fingerprinted", func() error {
			q := strata.Q().Where("email = $1", make(chan int)).Build()
			return cached.SearchCached(ctx, members, &q, &list)
		}, []error{strata.ErrInvalidQuery}},
		{"type drift on Migrate", func() error { return driftStore.Migrate(ctx) }, []error{strata.ErrMigrationFailed}},
		{"type drift on Get", func() error {
			if _, err := pg.Exec(ctx, "INSERT INTO "+pgx.Identifier{drifted}.Sanitize()+" VALUES ('a', 'a', 'a', 'not a time')"); err != nil {
				return err
			}
			return driftStore.Get(ctx, drifted, "a", &got)
		}, []error{strata.ErrDecodeFailed}},
		{"PostgreSQL down: Migrate", func() error { return down.Migrate(ctx) }, []error{strata.ErrL3Unavailable}},
		{"PostgreSQL down: Get", func() error { return down.Get(ctx, members, "a", &got) }, []error{strata.ErrL3Unavailable}},
		{"PostgreSQL down: Set", func() error { return down.Set(ctx, members, "a", &Member{ID: "a"}) }, []error{strata.ErrL3Unavailable}},
		{"PostgreSQL down: Search", func() error { return down.Search(ctx, members, nil, &list) }, []error{strata.ErrL3Unavailable}},
		{"PostgreSQL down: NUL id is refused before the round trip", func() error { return down.Get(ctx, members, "\x00", &got) }, []error{strata.ErrInvalidModel}},
		{"PostgreSQL down: NUL field is refused before the round trip", func() error {
			return down.Set(ctx, members, "a", &Member{ID: "a", Name: "\x00"})
		}, []error{strata.ErrInvalidModel}},
		{"statement timeout", func() error {
			q := strata.Q().Where("(SELECT true FROM pg_sleep($1))", 2.0).Build()
			_, err := slow.Count(ctx, members, &q)
			return err
		}, []error{strata.ErrL3Failed}},
		{"closed store", func() error { return closed.Get(ctx, members, "a", &got) }, []error{strata.ErrUnavailable}},
		{"unregistered schema", func() error { return ds.Get(ctx, "nosuch", "a", &got) }, []error{strata.ErrSchemaNotFound}},
		{"wrong destination type", func() error { var s []string; return ds.Search(ctx, members, nil, &s) }, []error{strata.ErrInvalidModel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			t.Log(err)
			if err == nil {
				t.Fatalf("no error; want %v", tt.want)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("errors.Is(%v) = false for: %v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "strata:"); n != 1 {
				t.Errorf(`message names "strata:" %d times: %v`, n, err)
			}
		})
	}

	// The constraint is reachable.
	err = ds.Set(ctx, members, "b", &Member{ID: "b", Email: "a@x"})
	var ce *strata.ConflictError
	if !errors.As(err, &ce) || ce.Constraint != members+"_email_key" || ce.Table != members {
		t.Errorf("ConflictError of a unique violation = %+v (%v), want constraint %s_email_key", ce, err, members)
	}
	// Migrate with PostgreSQL down: one clean message.
	err = down.Migrate(ctx)
	if msg := err.Error(); strings.Contains(msg, "migrate: unavailable") || strings.Contains(msg, "postgres: migrate") {
		t.Errorf("Migrate with PostgreSQL down repeats prefixes: %v", err)
	}
	// Never migrated: the message says what to do.
	if err := ds.Get(ctx, fresh, "a", &got); !strings.Contains(err.Error(), "Migrate") {
		t.Errorf("Get on a table never migrated does not say to run Migrate: %v", err)
	}
}

// withParam returns the URL dsn with the encoded query parameter param
// added.
func withParam(t *testing.T, dsn, param string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += param
	return u.String()
}
