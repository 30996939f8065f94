package model

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fuzzTypes are the field types FuzzParse builds models from.
var fuzzTypes = []reflect.Type{
	reflect.TypeFor[string](), reflect.TypeFor[int](), reflect.TypeFor[int64](), reflect.TypeFor[uint64](),
	reflect.TypeFor[float64](), reflect.TypeFor[bool](), reflect.TypeFor[time.Time](), reflect.TypeFor[*time.Time](),
	reflect.TypeFor[[]byte](), reflect.TypeFor[[]string](), reflect.TypeFor[map[string]int](), reflect.TypeFor[*string](),
	reflect.TypeFor[struct{ A int }](), reflect.TypeFor[chan int](),
}

// FuzzParse builds a model with one fuzzed field (type, tag, name) next to
// a primary key: Parse must not panic, must fail only with ErrInvalidModel,
// and what it accepts must hold together (a valid column name, a quoted
// default, consistent views and table definitions).
func FuzzParse(f *testing.F) {
	f.Add("Name", "", uint8(0))
	f.Add("Level", "default:1", uint8(1))
	f.Add("Note", "default:'it''s'", uint8(0))
	f.Add("At", "auto_now_add", uint8(6))
	f.Add("Key", "encrypted,nullable", uint8(0))
	f.Add("Tags", "omit_cache,default:[\"a\"]", uint8(9))
	f.Add("X", "primary_key", uint8(0))
	f.Add("Y", "default:now()", uint8(7))
	f.Fuzz(func(t *testing.T, name, tag string, typ uint8) {
		if !isExportedIdent(name) || name == "ID" {
			return
		}
		st := reflect.StructOf([]reflect.StructField{
			{Name: "ID", Type: reflect.TypeFor[string](), Tag: `strata:"primary_key"`},
			{Name: name, Type: fuzzTypes[int(typ)%len(fuzzTypes)], Tag: reflect.StructTag(`strata:"` + strings.NewReplacer(`"`, ``, `\`, ``).Replace(tag) + `"`)},
		})
		m, err := Parse(reflect.New(st).Interface())
		if err != nil {
			if !errors.Is(err, ErrInvalidModel) {
				t.Fatalf("Parse error %v wraps neither sentinel", err)
			}
			return
		}
		for _, fd := range m.Fields {
			if !ValidName(fd.Column) {
				t.Errorf("column %q is not a valid name", fd.Column)
			}
			if d := fd.DefaultSQL; d != "" && d != "now()" && strings.ContainsAny(d, "'") && !strings.HasPrefix(d, "'") {
				t.Errorf("default %q is not a literal", d)
			}
		}
		tv := m.Tiers(false)
		if len(tv.L1.Fields()) > len(tv.L2.Fields()) || len(tv.L2.Fields()) > len(tv.L3.Fields()) {
			t.Errorf("views do not nest: L1 %v, L2 %v, L3 %v", tv.L1.Fields(), tv.L2.Fields(), tv.L3.Fields())
		}
		if def := m.TableDef("t", ""); len(def.Columns) != len(m.Fields) || def.PrimaryKey != "id" {
			t.Errorf("TableDef %+v", def)
		}
		// A zero record copies to an equal one through every view.
		zero := reflect.New(st).Elem()
		got := tv.L3.Snapshot(zero)
		if !reflect.DeepEqual(got, reflect.New(st).Interface()) {
			t.Errorf("L3 snapshot of a zero record differs: %v", cmp.Diff(reflect.New(st).Interface(), got))
		}
	})
}

func isExportedIdent(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// FuzzSnakeCase: the name of any Go identifier is valid once it fits, and
// snake_case is idempotent.
func FuzzSnakeCase(f *testing.F) {
	for _, s := range []string{"ID", "UserID", "APIKey", "HTTPServer", "Level2", "already_snake"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isExportedIdent(s) {
			return
		}
		got := SnakeCase(s)
		if len(got) <= 63 && !ValidName(got) {
			t.Errorf("SnakeCase(%q) = %q, not a valid name", s, got)
		}
		if again := SnakeCase(got); again != got {
			t.Errorf("SnakeCase not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

// FuzzDeepCopy: a copy equals its source and shares no slice, map or
// pointer with it.
func FuzzDeepCopy(f *testing.F) {
	f.Add("a", 3, true)
	f.Fuzz(func(t *testing.T, s string, n int, nilPtr bool) {
		type inner struct {
			S []string
			M map[string]*int
		}
		type rec struct {
			P  *inner
			L  []inner
			At time.Time
		}
		k := n % 8
		if k < 0 {
			k = -k
		}
		src := rec{L: make([]inner, k)}
		for i := range src.L {
			v := i
			src.L[i] = inner{S: []string{s}, M: map[string]*int{s: &v}}
		}
		if !nilPtr {
			src.P = &inner{S: []string{s}}
		}
		var dst rec
		DeepCopy(reflect.ValueOf(&dst).Elem(), reflect.ValueOf(&src).Elem())
		if diff := cmp.Diff(src, dst); diff != "" {
			t.Fatalf("copy differs (-src +dst):\n%s", diff)
		}
		for i := range src.L {
			src.L[i].S[0] += "x"
			*src.L[i].M[s]++
		}
		if src.P != nil {
			src.P.S[0] += "x"
		}
		for i := range dst.L {
			if dst.L[i].S[0] != s || *dst.L[i].M[s] != i {
				t.Fatalf("copy shares memory with its source at L[%d]", i)
			}
		}
		if dst.P != nil && dst.P.S[0] != s {
			t.Fatal("copy shares P with its source")
		}
	})
}
