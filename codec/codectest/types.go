package codectest

import "time"

// Scalars holds one field of every scalar type Strata maps to a column, plus
// the integer widths that map to BIGINT.
type Scalars struct {
	S   string
	I   int
	I8  int8
	I16 int16
	I32 int32
	I64 int64
	U   uint
	U8  uint8
	U16 uint16
	U32 uint32
	U64 uint64
	F32 float32
	F64 float64
	B   bool
}

// Inner is a nested struct.
type Inner struct {
	Name string
	Tags []string
	At   time.Time
}

// Composite holds the container, pointer and time shapes.
type Composite struct {
	At       time.Time
	Bytes    []byte
	Inner    Inner
	InnerPtr *Inner
	IntPtr   *int64
	StrPtr   *string
	Strings  []string
	Ints     []int64
	Structs  []Inner
	Counts   map[string]int64
	Nested   map[string][]string
	ByID     map[string]Inner
	Empty    struct{}
	Scalars  Scalars
}
