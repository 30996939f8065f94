package model

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"time"
)

type specPlayer struct {
	ID        string `strata:"primary_key"`
	Username  string `strata:"unique,index"`
	Email     string `strata:"index,nullable"`
	Level     int    `strata:"default:1"`
	Score     int64
	APIKey    string    `strata:"encrypted"`
	Password  string    `strata:"omit_cache"`
	Notes     string    `strata:"nullable"`
	CreatedAt time.Time `strata:"auto_now_add"`
	UpdatedAt time.Time `strata:"auto_now"`
	Internal  string    `strata:"-"`
	//lint:ignore U1000 an unexported field, which the model must skip
	hidden int
}

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ID", "id"}, {"UserID", "user_id"}, {"APIKey", "api_key"}, {"CreatedAt", "created_at"},
		{"HTTPServer", "http_server"}, {"Level2", "level2"}, {"Player", "player"},
		{"PlayerScore", "player_score"}, {"already_snake", "already_snake"},
	}
	for _, tt := range tests {
		if got := SnakeCase(tt.in); got != tt.want {
			t.Errorf("SnakeCase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseModelSpecPlayer(t *testing.T) {
	t.Parallel()
	m, err := Parse(&specPlayer{})
	if err != nil {
		t.Fatal(err)
	}
	type col struct {
		column, sqlType string
		nullable        bool
		flags           Flags
		defaultSQL      string
	}
	want := []col{
		{"id", SQLText, false, FlagPrimaryKey, ""},
		{"username", SQLText, false, FlagUnique | FlagIndex, ""},
		{"email", SQLText, true, FlagIndex | FlagNullable, ""},
		{"level", SQLBigint, false, 0, "1"},
		{"score", SQLBigint, false, 0, ""},
		{"api_key", SQLText, false, FlagEncrypted, ""},
		{"password", SQLText, false, FlagOmitCache, ""},
		{"notes", SQLText, true, FlagNullable, ""},
		{"created_at", SQLTimestamptz, false, FlagAutoNowAdd, ""},
		{"updated_at", SQLTimestamptz, false, FlagAutoNow, ""},
	}
	var got []col
	for _, f := range m.Fields {
		got = append(got, col{f.Column, f.SQLType, f.Nullable, f.Flags, f.DefaultSQL})
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(col{})); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if m.PKField().Column != "id" {
		t.Errorf("primary key = %q", m.PKField().Column)
	}
	if m.Fields[m.ByColumn["level"]].DefaultVal.Int() != 1 {
		t.Errorf("default Go value of level = %v", m.Fields[m.ByColumn["level"]].DefaultVal)
	}
}

func TestParseModelTypeMapping(t *testing.T) {
	t.Parallel()
	type nested struct{ A int }
	type allTypes struct {
		ID    string `strata:"primary_key"`
		S     string
		I     int
		I8    int8
		I32   int32
		I64   int64
		U16   uint16
		F32   float32
		F64   float64
		B     bool
		T     time.Time
		Bytes []byte
		N     nested
		M     map[string]int
		L     []string
		PS    *string
		PT    *time.Time
	}
	m, err := Parse(&allTypes{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"s": SQLText, "i": SQLBigint, "i8": SQLBigint, "i32": SQLBigint, "i64": SQLBigint, "u16": SQLBigint,
		"f32": SQLDouble, "f64": SQLDouble, "b": SQLBoolean, "t": SQLTimestamptz, "bytes": SQLBytea,
		"n": SQLJSONB, "m": SQLJSONB, "l": SQLJSONB, "ps": SQLText, "pt": SQLTimestamptz,
	}
	for col, typ := range want {
		f := m.Fields[m.ByColumn[col]]
		if f.SQLType != typ {
			t.Errorf("column %s: type %s, want %s", col, f.SQLType, typ)
		}
	}
	if !m.Fields[m.ByColumn["ps"]].Nullable {
		t.Error("a pointer field must be nullable")
	}
}

func TestParseModelEmbeddedStructIsFlattened(t *testing.T) {
	t.Parallel()
	type Base struct {
		CreatedAt time.Time `strata:"auto_now_add"`
	}
	type withBase struct {
		Base
		ID string `strata:"primary_key"`
	}
	m, err := Parse(&withBase{})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := m.ByColumn["created_at"]
	if !ok || !reflect.DeepEqual(m.Fields[f].Index, []int{0, 0}) {
		t.Errorf("embedded field not flattened: %+v", m.Fields)
	}
}

func TestParseModelRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		model any
		want  error
	}{
		{"nil", nil, ErrInvalidModel},
		{"non-pointer", specPlayer{}, ErrInvalidModel},
		{"nil pointer", (*specPlayer)(nil), ErrInvalidModel},
		{"pointer to map", &map[string]int{}, ErrInvalidModel},
		{"no primary key", &struct{ Name string }{}, ErrNoPrimaryKey},
		{"int primary key", &struct {
			ID int `strata:"primary_key"`
		}{}, ErrInvalidModel},
		{"two primary keys", &struct {
			A string `strata:"primary_key"`
			B string `strata:"primary_key"`
		}{}, ErrInvalidModel},
		{"unknown tag", &struct {
			ID string `strata:"primary_key,indexed"`
		}{}, ErrInvalidModel},
		{"spaces in tags", &struct {
			ID string `strata:"primary_key, unique"`
		}{}, ErrInvalidModel},
		{"encrypted int", &struct {
			ID  string `strata:"primary_key"`
			Pin int    `strata:"encrypted"`
		}{}, ErrInvalidModel},
		{"auto_now on string", &struct {
			ID string `strata:"primary_key"`
			At string `strata:"auto_now"`
		}{}, ErrInvalidModel},
		{"uint64 does not fit BIGINT", &struct {
			ID string `strata:"primary_key"`
			N  uint64
		}{}, ErrInvalidModel},
		{"channel", &struct {
			ID string `strata:"primary_key"`
			C  chan int
		}{}, ErrInvalidModel},
		{"interface", &struct {
			ID string `strata:"primary_key"`
			V  any
		}{}, ErrInvalidModel},
		{"bad int default", &struct {
			ID    string `strata:"primary_key"`
			Level int    `strata:"default:high"`
		}{}, ErrInvalidModel},
		{"duplicate column", &struct {
			ID     string `strata:"primary_key"`
			UserID string
			UserId string
		}{}, ErrInvalidModel},
		{"nullable primary key", &struct {
			ID string `strata:"primary_key,nullable"`
		}{}, ErrInvalidModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.model)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse error = %v, want one wrapping %v", err, tt.want)
			}
		})
	}
}

func TestParseDefaultQuotesText(t *testing.T) {
	t.Parallel()
	m, err := Parse(&struct {
		ID   string    `strata:"primary_key"`
		Role string    `strata:"default:o'brien); DROP TABLE x; --"`
		On   bool      `strata:"default:true"`
		At   time.Time `strata:"default:now()"`
	}{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Fields[m.ByColumn["role"]].DefaultSQL, `'o''brien); DROP TABLE x; --'`; got != want {
		t.Errorf("text default = %s, want %s", got, want)
	}
	if got := m.Fields[m.ByColumn["on"]].DefaultSQL; got != "TRUE" {
		t.Errorf("bool default = %s", got)
	}
	if got := m.Fields[m.ByColumn["at"]].DefaultSQL; got != "now()" {
		t.Errorf("time default = %s", got)
	}
}
