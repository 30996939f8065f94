package model

import (
	"reflect"
	"testing"
	"time"
)

type flatRow struct {
	ID    string
	Level int
	At    time.Time
	Pos   [3]float64
}

type deepRow struct {
	ID     string
	Tags   []string
	Attrs  map[string][]int
	Best   *flatRow
	Any    any
	Blob   []byte
	Nested struct{ L []flatRow }
}

func TestIsFlat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want bool
	}{
		{flatRow{}, true}, {deepRow{}, false}, {struct{ S []int }{}, false},
		{struct{ P *int }{}, false}, {struct{ A [2]string }{}, true}, {time.Time{}, true},
	}
	for _, tt := range tests {
		if got := IsFlat(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("IsFlat(%T) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestDeepCopySharesNothingMutable(t *testing.T) {
	t.Parallel()
	src := &deepRow{
		ID: "a", Tags: []string{"x"}, Attrs: map[string][]int{"k": {1}},
		Best: &flatRow{ID: "b"}, Any: []int{5}, Blob: []byte("z"),
	}
	src.Nested.L = []flatRow{{ID: "n"}}
	var dst deepRow
	DeepCopy(reflect.ValueOf(&dst).Elem(), reflect.ValueOf(src).Elem())
	if !reflect.DeepEqual(&dst, src) {
		t.Fatalf("copy differs: %+v vs %+v", dst, *src)
	}
	src.Tags[0] = "mutated"
	src.Attrs["k"][0] = 99
	src.Best.ID = "mutated"
	src.Any.([]int)[0] = 99
	src.Blob[0] = 'M'
	src.Nested.L[0].ID = "mutated"
	if dst.Tags[0] != "x" || dst.Attrs["k"][0] != 1 || dst.Best.ID != "b" || dst.Any.([]int)[0] != 5 || dst.Blob[0] != 'z' || dst.Nested.L[0].ID != "n" {
		t.Errorf("mutating the source changed the copy: %+v", dst)
	}
}

func TestDeepCopyKeepsNilAndEmptyApart(t *testing.T) {
	t.Parallel()
	src := deepRow{Tags: []string{}, Attrs: nil}
	var dst deepRow
	DeepCopy(reflect.ValueOf(&dst).Elem(), reflect.ValueOf(&src).Elem())
	if dst.Tags == nil || dst.Attrs != nil {
		t.Errorf("nil/empty not preserved: Tags nil=%v Attrs nil=%v", dst.Tags == nil, dst.Attrs == nil)
	}
}

func TestDeepCopyFlatDoesNotAllocate(t *testing.T) {
	src := flatRow{ID: "a", Level: 3, At: time.Now()}
	var dst flatRow
	d, s := reflect.ValueOf(&dst).Elem(), reflect.ValueOf(&src).Elem()
	if n := testing.AllocsPerRun(100, func() { DeepCopy(d, s) }); n != 0 {
		t.Errorf("DeepCopy of a flat struct allocated %v times", n)
	}
}
