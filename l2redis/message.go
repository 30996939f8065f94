package l2redis

import (
	"encoding/binary"
	"fmt"
)

// Op says what happened to the records an [Invalidation] names.
type Op uint8

const (
	// OpSet: the records were written; drop any cached copy.
	OpSet Op = 1
	// OpDelete: the records were deleted.
	OpDelete Op = 2
	// OpFlush: every record of the schema may have changed (IDs is empty).
	OpFlush Op = 3
)

// String returns "set", "delete", "flush", or "op(N)" for an unknown value.
func (o Op) String() string {
	switch o {
	case OpSet:
		return "set"
	case OpDelete:
		return "delete"
	case OpFlush:
		return "flush"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Invalidation is one message on the bus.
type Invalidation struct {
	// Schema names the records' schema (or any namespace the caller uses).
	Schema string
	// IDs are the records concerned; empty for OpFlush.
	IDs []string
	// Op is what happened to them.
	Op Op
	// Source is the InstanceID of the publishing Bus.
	Source string
	// Seq is the publisher's sequence number: 1 for its first message, then
	// one more for each Publish call, including calls that failed.
	Seq uint64
}

// Wire format, version 1. Every string is a uvarint length then the bytes:
//
//	byte    version (1)
//	byte    op
//	uvarint seq
//	string  source
//	string  schema
//	uvarint number of ids
//	string  id, repeated
//
// A message for one record of a short schema is about 30 bytes.
const (
	wireVersion = 1
	// maxField bounds the length of each string in a message.
	maxField = 1 << 16
)

// MarshalBinary encodes m in the bus's wire format.
func (m Invalidation) MarshalBinary() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	size := 2 + binary.MaxVarintLen64*(3+len(m.IDs)) + len(m.Source) + len(m.Schema)
	for _, id := range m.IDs {
		size += len(id)
	}
	b := make([]byte, 0, size)
	b = append(b, wireVersion, byte(m.Op))
	b = binary.AppendUvarint(b, m.Seq)
	b = appendString(b, m.Source)
	b = appendString(b, m.Schema)
	b = binary.AppendUvarint(b, uint64(len(m.IDs)))
	for _, id := range m.IDs {
		b = appendString(b, id)
	}
	return b, nil
}

// check reports why m cannot be encoded, if it cannot.
func (m Invalidation) check() error {
	if m.Op < OpSet || m.Op > OpFlush {
		return fmt.Errorf("%w: unknown op %d", ErrInvalidMessage, m.Op)
	}
	for _, id := range m.IDs {
		if len(id) > maxField {
			return fmt.Errorf("%w: id longer than %d bytes", ErrInvalidMessage, maxField)
		}
	}
	if len(m.Source) > maxField || len(m.Schema) > maxField {
		return fmt.Errorf("%w: source or schema longer than %d bytes", ErrInvalidMessage, maxField)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeInvalidation parses a message in the bus's wire format. Malformed or
// truncated input, an unknown version or op, and trailing bytes are errors
// wrapping ErrInvalidMessage; it never panics.
func DecodeInvalidation(b []byte) (Invalidation, error) {
	d := decoder{b: b}
	var m Invalidation
	if len(b) < 2 {
		return m, fmt.Errorf("%w: %d bytes", ErrInvalidMessage, len(b))
	}
	if b[0] != wireVersion {
		return m, fmt.Errorf("%w: version %d", ErrInvalidMessage, b[0])
	}
	m.Op = Op(b[1])
	if m.Op < OpSet || m.Op > OpFlush {
		return m, fmt.Errorf("%w: unknown op %d", ErrInvalidMessage, b[1])
	}
	d.b = b[2:]
	m.Seq = d.uvarint()
	m.Source = d.string()
	m.Schema = d.string()
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every id takes at least its length byte
		d.fail()
	}
	if d.err == nil && n > 0 {
		m.IDs = make([]string, n)
		for i := range m.IDs {
			m.IDs[i] = d.string()
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return Invalidation{}, d.err
	}
	return m, nil
}

// sourceIs reports whether payload is a well-formed message's head naming
// source as its publisher, reading no further than the source and
// allocating nothing: a subscriber skips its own messages with it.
func sourceIs(payload, source string) bool {
	if len(payload) < 3 || payload[0] != wireVersion {
		return false
	}
	i := 2
	for ; i < len(payload) && payload[i] >= 0x80; i++ { // the sequence number
	}
	i++
	n, shift := uint64(0), uint(0)
	for ; i < len(payload) && shift < 64; i++ { // the source's length
		c := payload[i]
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			i++
			return n == uint64(len(source)) && len(payload)-i >= len(source) && payload[i:i+len(source)] == source
		}
		shift += 7
	}
	return false
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: malformed or truncated", ErrInvalidMessage)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxField || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
