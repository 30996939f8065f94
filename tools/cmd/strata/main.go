// Command strata operates a deployment of the Strata library from the
// shell: it applies and lists SQL-file migrations, shows a record as Redis
// and PostgreSQL hold it, invalidates cached records on every instance,
// checks that the servers answer, and reports on the change feed's
// replication slot.
//
// Install it with
//
//	go install github.com/AndrewDonelson/strata/tools/cmd/strata@latest
//
// and run `strata --help`, or `strata help COMMAND`, for the details:
//
//	strata migrate up DIR         apply the NNN_description.sql files of DIR not applied yet
//	strata migrate status DIR     list them: applied, pending, changed since applied
//	strata inspect SCHEMA ID      the record's Redis key and TTL beside its PostgreSQL row
//	strata invalidate SCHEMA [ID] drop one record, or all of a schema, from every cache
//	strata ping                   check that Redis and PostgreSQL answer
//	strata feed status            the change feed's slot: who streams it, how far behind
//	strata version                the command's and the library's versions
//
// The servers come from flags or the environment: --postgres-dsn
// (STRATA_POSTGRES_DSN), --redis-addr (STRATA_REDIS_ADDR), --redis-password
// (STRATA_REDIS_PASSWORD). It is its own module so that its dependencies
// (cobra) never reach the library's users.
//
// The command uses cobra rather than urfave/cli v3: it is the CLI library
// most Go users already know from kubectl, gh, hugo and docker; its nested
// commands (migrate up, feed status) with inherited persistent flags fit
// this command's shape; and it generates help with examples and shell
// completion. Its only run-time dependencies are spf13/pflag and (on
// Windows) mousetrap.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
