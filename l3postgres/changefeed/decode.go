package changefeed

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
)

// relation is what the decoder knows of one published table.
type relation struct {
	namespace, name string
	columns         []string
	keyIdx          []int    // positions of the key columns in columns
	keyNames        []string // their names, in key order
	verIdx          int      // position of Config.VersionColumn in columns, or -1
}

// keyLookup returns the primary-key column names of a relation by OID, in
// key order; an empty result means the table has no primary key.
type keyLookup func(ctx context.Context, oid uint32) ([]string, error)

// decoder turns pgoutput messages into chunks of changes.
type decoder struct {
	lookup    keyLookup
	relations map[uint32]*relation
	maxBatch  int
	// versionCol is Config.VersionColumn.
	versionCol string

	inTxn      bool
	commitTime time.Time
	started    time.Time // when the current chunk's first message arrived
	changes    []Change
}

func newDecoder(lookup keyLookup, maxBatch int, versionCol string) *decoder {
	return &decoder{lookup: lookup, relations: map[uint32]*relation{}, maxBatch: maxBatch, versionCol: versionCol}
}

// chunk is a run of changes handed to the applier; end is the end of the
// transaction that the chunk completes, or 0.
type chunk struct {
	changes    []Change
	txns       int
	end        LSN
	commitTime time.Time
	received   time.Time
}

// decode handles one pgoutput message. It returns a chunk when a
// transaction ends or the current one has grown to maxBatch changes.
func (d *decoder) decode(ctx context.Context, data []byte, now time.Time) (*chunk, error) {
	if len(data) == 0 {
		return nil, nil
	}
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		if pglogrepl.MessageType(data[0]) == pglogrepl.MessageTypeMessage || pglogrepl.MessageType(data[0]) == pglogrepl.MessageTypeType {
			return nil, nil
		}
		return nil, fmt.Errorf("changefeed: decode pgoutput message %q: %w", data[0], err)
	}
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		d.inTxn, d.commitTime, d.started = true, m.CommitTime, now
	case *pglogrepl.CommitMessage:
		c := &chunk{changes: d.changes, txns: 1, end: m.TransactionEndLSN, commitTime: m.CommitTime, received: d.started}
		d.changes, d.inTxn = nil, false
		return c, nil
	case *pglogrepl.RelationMessage:
		r := &relation{namespace: m.Namespace, name: m.RelationName, columns: make([]string, len(m.Columns))}
		var identity []string
		for i, col := range m.Columns {
			r.columns[i] = col.Name
			if col.Flags&1 != 0 {
				identity = append(identity, col.Name)
			}
		}
		keys, err := d.lookup(ctx, m.RelationID)
		if err != nil {
			return nil, fmt.Errorf("changefeed: primary key of %s.%s: %w", m.Namespace, m.RelationName, err)
		}
		if len(keys) == 0 {
			keys = identity
		}
		for _, k := range keys {
			i := indexOf(r.columns, k)
			if i < 0 {
				return nil, fmt.Errorf("changefeed: key column %q of %s.%s is not in the stream's columns", k, m.Namespace, m.RelationName)
			}
			r.keyIdx = append(r.keyIdx, i)
		}
		r.keyNames = keys
		r.verIdx = -1
		if d.versionCol != "" {
			r.verIdx = indexOf(r.columns, d.versionCol)
		}
		d.relations[m.RelationID] = r
	case *pglogrepl.InsertMessage:
		return d.add(m.RelationID, OpInsert, m.Tuple, nil)
	case *pglogrepl.UpdateMessage:
		return d.add(m.RelationID, OpUpdate, m.NewTuple, m.OldTuple)
	case *pglogrepl.DeleteMessage:
		return d.add(m.RelationID, OpDelete, m.OldTuple, nil)
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			r, ok := d.relations[id]
			if !ok {
				return nil, fmt.Errorf("changefeed: truncate of relation %d before its description", id)
			}
			d.changes = append(d.changes, Change{Namespace: r.namespace, Table: r.name, Op: OpTruncate, KeyColumns: r.keyNames})
		}
		return d.split(), nil
	}
	return nil, nil
}

func (d *decoder) add(oid uint32, op Op, tuple, old *pglogrepl.TupleData) (*chunk, error) {
	r, ok := d.relations[oid]
	if !ok {
		return nil, fmt.Errorf("changefeed: change of relation %d before its description", oid)
	}
	c := Change{Namespace: r.namespace, Table: r.name, Op: op, KeyColumns: r.keyNames}
	key, known := r.key(tuple)
	if op == OpUpdate && old != nil {
		oldKey, oldKnown := r.key(old)
		switch {
		case !known && oldKnown: // an unchanged TOASTed key: the old tuple has it
			key, known = oldKey, true
		case known && oldKnown && !equal(key, oldKey):
			c.OldKey = oldKey
		}
	}
	if known {
		c.Key = key
	}
	if op != OpDelete {
		c.Version = r.version(tuple)
	}
	d.changes = append(d.changes, c)
	return d.split(), nil
}

// split returns the changes gathered so far as a chunk when they reached
// maxBatch inside a transaction.
func (d *decoder) split() *chunk {
	if len(d.changes) < d.maxBatch {
		return nil
	}
	c := &chunk{changes: d.changes, commitTime: d.commitTime, received: d.started}
	d.changes = nil
	return c
}

// key returns the key values of tuple, and false when one is missing
// (NULL or an unchanged TOASTed value that was not sent).
func (r *relation) key(t *pglogrepl.TupleData) ([]string, bool) {
	if t == nil || len(r.keyIdx) == 0 {
		return nil, false
	}
	key := make([]string, len(r.keyIdx))
	for i, ix := range r.keyIdx {
		if ix >= len(t.Columns) {
			return nil, false
		}
		col := t.Columns[ix]
		if col.DataType != pglogrepl.TupleDataTypeText && col.DataType != pglogrepl.TupleDataTypeBinary {
			return nil, false
		}
		key[i] = string(col.Data)
	}
	return key, true
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// version returns the row version column's value in tuple, or 0.
func (r *relation) version(t *pglogrepl.TupleData) int64 {
	if t == nil || r.verIdx < 0 || r.verIdx >= len(t.Columns) || t.Columns[r.verIdx].DataType != pglogrepl.TupleDataTypeText {
		return 0
	}
	v, err := strconv.ParseInt(string(t.Columns[r.verIdx].Data), 10, 64)
	if err != nil {
		return 0
	}
	return v
}
