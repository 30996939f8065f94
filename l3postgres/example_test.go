package l3postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// The table description is plain data; DB.Table validates it and prepares
// its statements without touching the server.
func ExampleDB_Table() {
	db, err := l3postgres.Open(context.Background(), "postgres://app@127.0.0.1:5432/app", &l3postgres.Options{MinConns: 0})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	_, err = db.Table(l3postgres.TableDef{Name: "players", Columns: l3postgres.Columns("id", "name"), PrimaryKey: "uuid"})
	fmt.Println(errors.Is(err, l3postgres.ErrInvalidTable))
	// Output: true
}

func Example() {
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		return // needs a server: run `make test` or `go run ./tools/cmd/devstack up`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	db, err := l3postgres.Open(ctx, dsn, nil) // MaxConns 20, MinConns 2, …
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TEMPORARY TABLE example_players (id TEXT PRIMARY KEY, name TEXT NOT NULL, level BIGINT NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	players, err := db.Table(l3postgres.TableDef{
		Name:       "example_players",
		Columns:    l3postgres.Columns("id", "name", "level"),
		PrimaryKey: "id",
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = players.Upsert(ctx, "p1", "ann", int64(3))

	var id, name string
	var level int64
	if err := players.GetByID(ctx, "p1", &id, &name, &level); err != nil {
		log.Fatal(err)
	}
	fmt.Println(id, name, level)
}

func ExampleTable_UpsertMany() {
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		return // needs a server
	}
	ctx := context.Background()
	db, err := l3postgres.Open(ctx, dsn, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	scores, err := db.Table(l3postgres.TableDef{Name: "scores", Columns: l3postgres.Columns("id", "score"), PrimaryKey: "id"})
	if err != nil {
		log.Fatal(err)
	}
	rows := make([][]any, 0, 10_000)
	for i := range 10_000 {
		rows = append(rows, []any{fmt.Sprint("player-", i), int64(i)})
	}
	// One COPY into a temporary table and one merge, in one transaction.
	n, err := scores.UpsertMany(ctx, rows)
	fmt.Println(n, err)
}

func ExampleTable_Query() {
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		return // needs a server
	}
	ctx := context.Background()
	db, err := l3postgres.Open(ctx, dsn, &l3postgres.Options{ReplicaDSN: os.Getenv("REPLICA_DSN")})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	players, err := db.Table(l3postgres.TableDef{Name: "players", Columns: l3postgres.Columns("id", "name", "level"), PrimaryKey: "id"})
	if err != nil {
		log.Fatal(err)
	}
	// Served by the replica when there is one.
	rows, err := players.Query(ctx, l3postgres.Query{
		Where:   "level > $1",
		Args:    []any{10},
		OrderBy: []l3postgres.Order{{Column: "level", Desc: true}},
		Limit:   25,
		Columns: []string{"id", "level"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var level int64
		if err := rows.Scan(&id, &level); err != nil {
			log.Fatal(err)
		}
		fmt.Println(id, level)
	}
}

func ExampleDB_InTx() {
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		return // needs a server
	}
	ctx := context.Background()
	db, err := l3postgres.Open(ctx, dsn, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	orders, _ := db.Table(l3postgres.TableDef{Name: "orders", Columns: l3postgres.Columns("id", "total"), PrimaryKey: "id"})
	carts, _ := db.Table(l3postgres.TableDef{Name: "carts", Columns: l3postgres.Columns("id"), PrimaryKey: "id"})

	// Both writes commit together or not at all.
	err = db.InTx(ctx, func(tx *l3postgres.Tx) error {
		if err := orders.On(tx).Upsert(ctx, "o1", int64(4200)); err != nil {
			return err
		}
		_, err := carts.On(tx).DeleteByID(ctx, "c1")
		return err
	})
	fmt.Println(err)
}
