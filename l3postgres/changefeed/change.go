package changefeed

import (
	"context"
	"time"

	"github.com/jackc/pglogrepl"
)

// LSN is a position in PostgreSQL's write-ahead log.
type LSN = pglogrepl.LSN

// Op is the kind of a [Change].
type Op uint8

const (
	// OpInsert: a row was inserted; Key is the new row's.
	OpInsert Op = iota + 1
	// OpUpdate: a row was updated; Key is the new row's, OldKey the old
	// row's when the update changed the key.
	OpUpdate
	// OpDelete: a row was deleted; Key is the deleted row's.
	OpDelete
	// OpTruncate: the table was truncated; Key is nil.
	OpTruncate
)

// String returns "insert", "update", "delete" or "truncate".
func (o Op) String() string {
	switch o {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpTruncate:
		return "truncate"
	}
	return "op(?)"
}

// Change is one row change (or one truncated table) of a committed
// transaction.
type Change struct {
	// Namespace and Table name the table (for a partition published
	// through its root, the root).
	Namespace, Table string
	// Op is what happened.
	Op Op
	// KeyColumns names the table's primary-key columns, in key order, as
	// the catalog has them (with REPLICA IDENTITY FULL pgoutput marks every
	// column as key, so the Feed asks the catalog). A table without a
	// primary key falls back to its replica identity. Shared between
	// changes of one table: do not modify.
	KeyColumns []string
	// Key holds the text form of the key columns' values, in KeyColumns
	// order. It is nil for OpTruncate, and nil for an insert, update or
	// delete whose key the stream did not carry (an unchanged TOASTed key
	// value): treat such a change as touching the whole table.
	Key []string
	// OldKey is set for an OpUpdate that changed the key: the row's key
	// before the update. Both keys name a row that changed.
	OldKey []string
	// Version is the row version the change wrote (Config.VersionColumn,
	// from the new row of an insert or update), or 0 when the stream did
	// not carry one (a delete, a table without the column).
	Version int64
}

// Batch is what one [Handler] call receives: the changes of one or more
// consecutive committed transactions, in commit order.
type Batch struct {
	Changes []Change
	// Txns is the number of transactions whose last change is in Changes
	// (0 when this call holds the first part of a transaction larger than
	// Config.MaxBatch).
	Txns int
	// EndLSN is the end position of the last complete transaction in the
	// batch, which the slot confirms once the Handler returned nil; 0 when
	// no transaction ends in this batch.
	EndLSN LSN
	// CommitTime is the commit time of the last transaction in the batch.
	CommitTime time.Time
	// Received is when the Feed finished reading the batch's first
	// transaction from the server.
	Received time.Time
}

// Handler applies a batch. See Config.Handler.
type Handler func(ctx context.Context, b *Batch) error
