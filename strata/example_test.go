package strata_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

type Gamer struct {
	ID       string `strata:"primary_key"`
	Username string `strata:"unique"`
	Level    int    `strata:"default:1"`
	Password string `strata:"omit_cache"`
}

// An in-memory DataStore: no PostgreSQL, no Redis.
func Example() {
	ctx := context.Background()
	ds, err := strata.NewDataStore(strata.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ds.Close()

	if err := ds.Register(strata.Schema{Name: "gamers", Model: &Gamer{}}); err != nil {
		fmt.Println(err)
		return
	}
	g := &Gamer{ID: "g1", Username: "ada"}
	if err := ds.Set(ctx, "gamers", "g1", g); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("level filled in by default:1 ->", g.Level)

	got, err := strata.GetTyped[Gamer](ctx, ds, "gamers", "g1")
	fmt.Printf("%+v %v\n", got, err)

	_, err = strata.GetTyped[Gamer](ctx, ds, "gamers", "nobody")
	fmt.Println(errors.Is(err, strata.ErrNotFound))
	// Output:
	// level filled in by default:1 -> 1
	// {ID:g1 Username:ada Level:1 Password:} <nil>
	// true
}

// A *slog.Logger is a Logger as it is.
func ExampleConfig_logger() {
	ds, err := strata.NewDataStore(strata.Config{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ds.Close()
	fmt.Println("ok")
	// Output: ok
}

// All three tiers, on the servers named by the environment (`make stack-up`
// starts them and writes .devstack/env; see skipServerExamples).
func ExampleNewDataStore_servers() {
	dsn, addr := os.Getenv("STRATA_POSTGRES_DSN"), os.Getenv("STRATA_REDIS_ADDR")
	if dsn == "" || addr == "" {
		fmt.Println("no servers: run `make stack-up` and export .devstack/env")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn, RedisAddr: addr})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: "example_gamers", Model: &Gamer{}}); err != nil {
		fmt.Println(err)
		return
	}
	if err := ds.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := ds.Set(ctx, "example_gamers", "g1", &Gamer{ID: "g1", Username: "ada", Password: "hash"}); err != nil {
		fmt.Println(err)
		return
	}
	q := strata.Q().Where("username = $1", "ada").Build()
	rows, err := strata.SearchTyped[Gamer](ctx, ds, "example_gamers", &q)
	fmt.Printf("%+v %v\n", rows, err)
	_ = ds.Delete(ctx, "example_gamers", "g1")
	// Output: [{ID:g1 Username:ada Level:1 Password:hash}] <nil>
}

// Errors wrap sentinels; test them with errors.Is.
func ExampleDataStore_Set_errors() {
	ds, _ := strata.NewDataStore(strata.Config{})
	defer ds.Close()
	_ = ds.Register(strata.Schema{Name: "gamers", Model: &Gamer{}})
	ctx := context.Background()

	err := ds.Set(ctx, "gamers", "g1", &Gamer{})
	fmt.Println(errors.Is(err, strata.ErrMissingPrimaryKey))
	err = ds.Set(ctx, "gamers", "g1", &Gamer{ID: "g2"})
	fmt.Println(errors.Is(err, strata.ErrInvalidModel))
	err = ds.Set(ctx, "nope", "g1", &Gamer{ID: "g1"})
	fmt.Println(errors.Is(err, strata.ErrSchemaNotFound))
	// Output:
	// true
	// true
	// true
}
