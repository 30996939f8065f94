// Package changefeed streams PostgreSQL's commit log (logical replication,
// the pgoutput plugin, through github.com/jackc/pglogrepl) to a handler,
// one batch of committed row changes at a time, with each change's table,
// primary-key values and kind (insert, update, delete, truncate). It knows
// nothing of caches: the strata module uses it to invalidate them for
// every write, wherever it was made (the commit-log design of "Scaling
// Memcache at Facebook", NSDI 2013).
//
// # Setting up
//
// The server needs PostgreSQL 13 or newer (publish_via_partition_root,
// pg_stat_replication.reply_time), wal_level = logical and a role with the
// REPLICATION attribute. [EnsurePublication] creates a publication of the tables to
// watch (each needs a primary key); [EnsureSlot] then creates a pgoutput
// logical replication slot, outside any transaction and after the tables'
// DDL has committed, because creating a slot waits for every transaction
// that is writing. [Check] explains what the server lacks.
//
// # Guarantees
//
//   - Nothing is lost: the slot's confirmed position passes a transaction
//     only after a [Handler] call that covered it returned nil. A failing
//     handler is retried with backoff (the Feed keeps reporting to the
//     server meanwhile, so it keeps the slot); a crash or takeover replays
//     from the confirmed position. Delivery is at least once, in commit
//     order.
//   - One consumer: PostgreSQL lets one session stream a slot (a second
//     START_REPLICATION fails with SQLSTATE 55006), so any number of Feeds
//     may run on a slot and exactly one streams it. The others check the
//     slot every AcquireInterval (1s) and take it when it is free: at once
//     when the holder's process ended (its connection closes), and after
//     TakeoverAfter (10s) of silence when the holder hangs or its host
//     vanished — they then end its session with pg_terminate_backend (the
//     same role may; otherwise pg_signal_backend is needed). Silence is
//     judged by the holder's status reports (pg_stat_replication.reply_time)
//     not changing, by the waiting Feed's own clock, so clock skew between
//     hosts does not matter.
//   - Progress: a holder whose Handler keeps failing (its cache server
//     down or refusing) gives the slot up after ReleaseAfter (10s) and
//     stays away for twice AcquireInterval, so that a Feed that can apply
//     takes over; with Config.Ready, a Feed takes the slot only while it
//     is ready (strata: while its Redis answers).
//   - Keys: a Change carries the primary-key columns from the catalog (with
//     REPLICA IDENTITY FULL, pgoutput would mark every column as key), the
//     new key of an insert or update, the old key of a delete, and both for
//     an update that changed the key. Partitions are published through
//     their root (publish_via_partition_root).
//   - Position: the Feed reports the position of what was applied every
//     StatusInterval (1s), answers the server's keepalives, advances the
//     position on keepalives while idle (so WAL of other tables is not
//     retained), and reports a last time on Close.
//
// # Performance
//
// One goroutine reads and decodes the stream while another runs the
// handler, so the two overlap; transactions that arrive while the handler
// runs are joined into the next call (up to MaxBatch changes), so a
// handler that costs one network round trip per call keeps up with a
// backlog. See BenchmarkFeedDrain for the rate against a bare pglogrepl
// receive loop.
//
// # Dropping a slot
//
// A slot that no consumer reads retains WAL on the server without bound —
// set max_slot_wal_keep_size to cap it (the slot is then invalidated
// instead of filling the disk). Remove a feed that is no longer wanted with
// [DropSlot] (it fails with ErrSlotActive while a Feed streams it) and
// [DropPublication], or in SQL:
//
//	SELECT pg_drop_replication_slot('<slot>');
//	DROP PUBLICATION <publication>;
package changefeed
