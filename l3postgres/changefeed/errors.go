package changefeed

import "errors"

var (
	// ErrInvalidConfig is returned by [Start] for a Config that cannot work:
	// no connection settings, no handler, or a slot or publication name
	// that PostgreSQL would refuse.
	ErrInvalidConfig = errors.New("changefeed: invalid config")

	// ErrNotLogical is returned by [Check] and [EnsureSlot] when the
	// server's wal_level is not logical. Changing it needs a restart of
	// PostgreSQL.
	ErrNotLogical = errors.New("changefeed: wal_level is not logical")

	// ErrNoReplicationPrivilege is returned by [Check] and [EnsureSlot] when
	// the role has neither the REPLICATION attribute nor superuser.
	ErrNoReplicationPrivilege = errors.New("changefeed: the role lacks the REPLICATION privilege")

	// ErrNoFreeSlot is returned by [Check] and [EnsureSlot] when the slot
	// does not exist and every one of max_replication_slots is taken, and
	// by [Check] when every one of max_wal_senders is busy.
	ErrNoFreeSlot = errors.New("changefeed: no free replication slot")

	// ErrNoPrimaryKey is returned by [EnsurePublication] for a table without
	// a primary key: once it is published, every UPDATE and DELETE on it
	// fails for every writer.
	ErrNoPrimaryKey = errors.New("changefeed: table has no primary key")

	// ErrSlotMissing is returned by [Check] (and logged by a running Feed)
	// when the slot has not been created.
	ErrSlotMissing = errors.New("changefeed: replication slot does not exist")

	// ErrSlotActive is returned by [DropSlot] while a consumer holds the
	// slot.
	ErrSlotActive = errors.New("changefeed: replication slot is in use")

	// ErrClosed is returned by calls on a Feed after [Feed.Close].
	ErrClosed = errors.New("changefeed: closed")
)
