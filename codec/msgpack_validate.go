package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxMsgPackDepth bounds how deeply arrays and maps may nest in MsgPack input,
// matching encoding/json's limit. Deeper input is rejected rather than decoded
// by recursion.
const maxMsgPackDepth = 10000

var (
	errTruncated = errors.New("input ends inside a value")
	errTrailing  = errors.New("bytes follow the value")
	errTooDeep   = fmt.Errorf("arrays and maps nest deeper than %d levels", maxMsgPackDepth)
	errBadCode   = errors.New("reserved type code 0xc1")
)

// validateMsgPack walks the framing of exactly one MessagePack value without
// decoding it. It rejects any declared length that exceeds the bytes left
// (every element of an array or map takes at least one byte), which is what
// keeps a small input from making the decoder preallocate a huge slice or
// map. It does not recurse and does not allocate for nesting up to 32 levels.
func validateMsgPack(data []byte) error {
	var fixed [32]int
	open := append(fixed[:0], 1) // values still to read at each nesting level
	pos := 0
	for len(open) > 0 {
		top := len(open) - 1
		if open[top] == 0 {
			open = open[:top]
			continue
		}
		open[top]--
		if pos >= len(data) {
			return errTruncated
		}
		next, items, _, ok := token(data, pos)
		if !ok {
			if data[pos] == 0xc1 {
				return errBadCode
			}
			return errTruncated
		}
		pos = next
		if items > 0 {
			if items > len(data)-pos {
				return fmt.Errorf("a container declares %d values but only %d bytes remain: %w", items, len(data)-pos, errTruncated)
			}
			if len(open) >= maxMsgPackDepth {
				return errTooDeep
			}
			open = append(open, items)
		}
	}
	if pos != len(data) {
		return fmt.Errorf("%d %w", len(data)-pos, errTrailing)
	}
	return nil
}

// token reads the token at data[pos] (pos < len(data)). It returns the
// position of the next token in sequence (after the header for arrays and
// maps, after the payload for everything else), the number of values an array
// or map header declares (a map's keys and values both count), the payload
// start of an extension (else 0), and false when the bytes at pos are not a
// complete token.
func token(data []byte, pos int) (next, items, extPayload int, ok bool) {
	c := data[pos]
	p := pos + 1
	good := true
	length := func(size int) int { // a big-endian length of size bytes
		n, err := readLen(data, &p, size)
		good = good && err == nil
		return n
	}
	var skip int
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		// positive/negative fixint, nil, false, true: the code is the value
	case c <= 0x8f: // fixmap
		items = 2 * int(c&0x0f)
	case c <= 0x9f: // fixarray
		items = int(c & 0x0f)
	case c <= 0xbf: // fixstr
		skip = int(c & 0x1f)
	case c == 0xc1: // never used
		return 0, 0, 0, false
	case c == 0xc4, c == 0xd9: // bin8, str8
		skip = length(1)
	case c == 0xc5, c == 0xda: // bin16, str16
		skip = length(2)
	case c == 0xc6, c == 0xdb: // bin32, str32
		skip = length(4)
	case c == 0xc7, c == 0xc8, c == 0xc9: // ext8/16/32: length, type byte, payload
		skip = length(1<<(c-0xc7)) + 1
		extPayload = p + 1
	case c == 0xca: // float32
		skip = 4
	case c == 0xcb: // float64
		skip = 8
	case c >= 0xcc && c <= 0xcf: // uint8..uint64
		skip = 1 << (c - 0xcc)
	case c >= 0xd0 && c <= 0xd3: // int8..int64
		skip = 1 << (c - 0xd0)
	case c >= 0xd4 && c <= 0xd8: // fixext1..fixext16: type byte, payload
		skip = 1 + 1<<(c-0xd4)
		extPayload = p + 1
	case c == 0xdc: // array16
		items = length(2)
	case c == 0xdd: // array32
		items = length(4)
	case c == 0xde: // map16
		items = 2 * length(2)
	case c == 0xdf: // map32
		items = 2 * length(4)
	}
	if !good || skip > len(data)-p {
		return 0, 0, 0, false
	}
	if extPayload >= len(data) {
		extPayload = 0
	}
	return p + skip, items, extPayload, true
}

// readLen reads a big-endian length of size bytes (1, 2 or 4) at *pos.
func readLen(data []byte, pos *int, size int) (int, error) {
	if size > len(data)-*pos {
		return 0, errTruncated
	}
	b := data[*pos : *pos+size]
	*pos += size
	switch size {
	case 1:
		return int(b[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(b)), nil
	default:
		return int(binary.BigEndian.Uint32(b)), nil
	}
}
