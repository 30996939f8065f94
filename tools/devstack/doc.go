// Package devstack runs the real PostgreSQL and Redis servers that Strata's
// integration tests, demo and benchmarks use, on this machine, without Docker.
//
// # What Up does
//
// [Stack.Up] finds the installed server binaries (PostgreSQL under
// /usr/lib/postgresql/<version>/bin or on PATH, redis-server on PATH) and, when
// one is missing and the process runs as root, installs the Debian package
// (postgresql, redis-server) with apt-get. It then starts each server on a
// free loopback port with its data in a fresh temporary directory:
//
//   - PostgreSQL: initdb with trust authentication, listening on 127.0.0.1
//     only, durability switched off (fsync, synchronous_commit,
//     full_page_writes) because the data is disposable, and logical
//     replication on (wal_level=logical, max_replication_slots and
//     max_wal_senders 20) for Strata's change feed and its tests. PostgreSQL refuses to
//     run as root, so when the caller is root the data directory is owned by
//     and the server runs as the "postgres" system user (via runuser). A
//     database named "strata" is created.
//   - Redis: bound to 127.0.0.1, no persistence (--save ” --appendonly no).
//
// Up waits until both servers answer a query, then records their pids, ports
// and directories in the state directory (state.json) and writes an env file
// (env) with STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR in KEY=value form that
// both make and sh can read.
//
// # Reuse and recovery
//
// Calling Up again reuses the servers recorded in the state file when their
// processes are alive and answer. A server whose process died, or that no
// longer answers, or a PostgreSQL started without the replication settings
// above, is detected and replaced by a fresh one. A file lock on the
// state directory serialises concurrent calls.
//
// # Stopping
//
// [Stack.Down] stops only the processes recorded in the state file — and only
// after checking that each pid still belongs to the expected program — then
// removes their temporary directories, the state file and the env file.
package devstack
