package codectest

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/codec"
)

// Case is one value the suite round-trips.
type Case struct {
	Name  string
	Value any // a non-pointer value; it is decoded into a new value of its type
}

// Cases returns the values every Codec must round-trip exactly.
func Cases() []Case {
	at := time.Date(2026, 11, 25, 22, 43, 12, 123456789, time.UTC)
	east := time.FixedZone("UTC+5:30", 5*3600+1800)
	west := time.FixedZone("UTC-7", -7*3600)
	i64, s := int64(-42), "pointed at"
	full := Composite{
		At:       at.In(east),
		Bytes:    []byte{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff},
		Inner:    Inner{Name: "inner", Tags: []string{"a", "b"}, At: at.In(west)},
		InnerPtr: &Inner{Name: "ptr", Tags: []string{}, At: at},
		IntPtr:   &i64,
		StrPtr:   &s,
		Strings:  []string{"x", "", "z"},
		Ints:     []int64{math.MinInt64, -1, 0, 1, math.MaxInt64},
		Structs:  []Inner{{Name: "one"}, {Name: "two", Tags: []string{"t"}}},
		Counts:   map[string]int64{"a": 1, "b": -2, "": 0},
		Nested:   map[string][]string{"nil": nil, "empty": {}, "full": {"v"}},
		ByID:     map[string]Inner{"k": {Name: "v", At: at}},
		Scalars:  Scalars{S: "s", I: 1, F64: 1.5, B: true},
	}
	return []Case{
		{"scalars/zero", Scalars{}},
		{"scalars/max", Scalars{
			S: "héllo, 世界 🌍", I: math.MaxInt, I8: math.MaxInt8, I16: math.MaxInt16,
			I32: math.MaxInt32, I64: math.MaxInt64, U: math.MaxUint, U8: math.MaxUint8,
			U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64,
			F32: math.MaxFloat32, F64: math.MaxFloat64, B: true,
		}},
		{"scalars/min", Scalars{
			S: "nul\x00inside", I: math.MinInt, I8: math.MinInt8, I16: math.MinInt16,
			I32: math.MinInt32, I64: math.MinInt64,
			F32: math.SmallestNonzeroFloat32, F64: -math.SmallestNonzeroFloat64,
		}},
		{"scalars/negative-zero", Scalars{F32: float32(math.Copysign(0, -1)), F64: math.Copysign(0, -1)}},
		{"scalars/fractions", Scalars{F32: 0.1, F64: 0.1, I64: 1 << 53, U64: 1<<64 - 2}},
		{"composite/zero", Composite{}},
		{"composite/full", full},
		{"composite/empty-not-nil", Composite{
			Bytes: []byte{}, Strings: []string{}, Ints: []int64{}, Structs: []Inner{},
			Counts: map[string]int64{}, Nested: map[string][]string{}, ByID: map[string]Inner{},
		}},
		{"time/utc", at},
		{"time/fixed-offset", at.In(west)},
		{"time/now-with-monotonic", time.Now()},
		{"time/zero", time.Time{}},
		{"time/before-1970", time.Date(1901, 12, 13, 20, 45, 52, 999999999, time.UTC)},
		{"time/year-9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"string/empty", ""},
		{"string/long", strings.Repeat("strata ", 20000)},
		{"bytes/nil", []byte(nil)},
		{"bytes/empty", []byte{}},
		{"bytes/data", []byte("\x00\xffbinary")},
		{"int64/min", int64(math.MinInt64)},
		{"uint64/max", uint64(math.MaxUint64)},
		{"float64/pi", math.Pi},
		{"bool/true", true},
		{"slice/nil", []string(nil)},
		{"slice/structs", []Inner{{Name: "a", At: at}, {}}},
		{"map/nil", map[string]int64(nil)},
		{"map/empty", map[string]int64{}},
		{"map/nested", map[string]map[string]bool{"a": {"x": true}, "b": {}, "c": nil}},
		{"pointer/nil", (*Inner)(nil)},
		{"pointer/set", &Inner{Name: "p"}},
	}
}

// Run checks c against the codec contract: exact round trips of [Cases],
// errors wrapping codec.ErrEncode / codec.ErrDecode for unencodable values,
// bad targets and malformed input, and no panic anywhere.
func Run(t *testing.T, c codec.Codec) {
	t.Helper()
	if c.Name() == "" {
		t.Errorf("%T.Name() is empty", c)
	}
	t.Run("roundtrip", func(t *testing.T) {
		for _, tc := range Cases() {
			t.Run(tc.Name, func(t *testing.T) {
				data, err := c.Marshal(tc.Value)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				got := reflect.New(reflect.TypeOf(tc.Value))
				if err := c.Unmarshal(data, got.Interface()); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if d := diff(tc.Value, got.Elem().Interface()); d != "" {
					t.Errorf("round trip through %s differs: %s", c.Name(), d)
				}
			})
		}
	})
	t.Run("unencodable", func(t *testing.T) {
		for name, v := range map[string]any{
			"chan": make(chan int),
			"func": func() {},
		} {
			if _, err := c.Marshal(v); !errors.Is(err, codec.ErrEncode) {
				t.Errorf("Marshal(%s) error = %v, want one wrapping codec.ErrEncode", name, err)
			}
		}
	})
	t.Run("bad-target", func(t *testing.T) {
		data, err := c.Marshal(Inner{Name: "x"})
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var in Inner
		for name, target := range map[string]any{
			"nil":         nil,
			"non-pointer": in,
			"nil-pointer": (*Inner)(nil),
		} {
			if err := c.Unmarshal(data, target); !errors.Is(err, codec.ErrDecode) {
				t.Errorf("Unmarshal into %s: error = %v, want one wrapping codec.ErrDecode", name, err)
			}
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, tc := range Cases() {
			if _, ok := tc.Value.(Composite); !ok {
				continue
			}
			data, err := c.Marshal(tc.Value)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			for n := range len(data) {
				var got Composite
				if err := c.Unmarshal(data[:n], &got); !errors.Is(err, codec.ErrDecode) {
					t.Fatalf("%s: Unmarshal of the first %d of %d bytes: error = %v, want one wrapping codec.ErrDecode", tc.Name, n, len(data), err)
				}
			}
		}
	})
	t.Run("wrong-type", func(t *testing.T) {
		data, err := c.Marshal(map[string]string{"I64": "not a number"})
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var got Scalars
		if err := c.Unmarshal(data, &got); !errors.Is(err, codec.ErrDecode) {
			t.Errorf("Unmarshal of a string into an int64 field: error = %v, want one wrapping codec.ErrDecode", err)
		}
	})
}
