package strata

import (
	"errors"
	"reflect"
	"testing"
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
		if got := snakeCase(tt.in); got != tt.want {
			t.Errorf("snakeCase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseModelSpecPlayer(t *testing.T) {
	t.Parallel()
	m, err := parseModel(&specPlayer{})
	if err != nil {
		t.Fatal(err)
	}
	type col struct {
		column, sqlType string
		nullable        bool
		flags           fieldFlags
		defaultSQL      string
	}
	want := []col{
		{"id", sqlText, false, flagPrimaryKey, ""},
		{"username", sqlText, false, flagUnique | flagIndex, ""},
		{"email", sqlText, true, flagIndex | flagNullable, ""},
		{"level", sqlBigint, false, 0, "1"},
		{"score", sqlBigint, false, 0, ""},
		{"api_key", sqlText, false, flagEncrypted, ""},
		{"password", sqlText, false, flagOmitCache, ""},
		{"notes", sqlText, true, flagNullable, ""},
		{"created_at", sqlTimestamptz, false, flagAutoNowAdd, ""},
		{"updated_at", sqlTimestamptz, false, flagAutoNow, ""},
	}
	var got []col
	for _, f := range m.fields {
		got = append(got, col{f.column, f.sqlType, f.nullable, f.flags, f.defaultSQL})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n got %+v\nwant %+v", got, want)
	}
	if m.pkField().column != "id" {
		t.Errorf("primary key = %q", m.pkField().column)
	}
	if m.fields[m.byColumn["level"]].defaultVal.Int() != 1 {
		t.Errorf("default Go value of level = %v", m.fields[m.byColumn["level"]].defaultVal)
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
	m, err := parseModel(&allTypes{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"s": sqlText, "i": sqlBigint, "i8": sqlBigint, "i32": sqlBigint, "i64": sqlBigint, "u16": sqlBigint,
		"f32": sqlDouble, "f64": sqlDouble, "b": sqlBoolean, "t": sqlTimestamptz, "bytes": sqlBytea,
		"n": sqlJSONB, "m": sqlJSONB, "l": sqlJSONB, "ps": sqlText, "pt": sqlTimestamptz,
	}
	for col, typ := range want {
		f := m.fields[m.byColumn[col]]
		if f.sqlType != typ {
			t.Errorf("column %s: type %s, want %s", col, f.sqlType, typ)
		}
	}
	if !m.fields[m.byColumn["ps"]].nullable {
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
	m, err := parseModel(&withBase{})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := m.byColumn["created_at"]
	if !ok || !reflect.DeepEqual(m.fields[f].index, []int{0, 0}) {
		t.Errorf("embedded field not flattened: %+v", m.fields)
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
			_, err := parseModel(tt.model)
			if !errors.Is(err, tt.want) {
				t.Fatalf("parseModel error = %v, want one wrapping %v", err, tt.want)
			}
		})
	}
}

func TestParseDefaultQuotesText(t *testing.T) {
	t.Parallel()
	m, err := parseModel(&struct {
		ID   string    `strata:"primary_key"`
		Role string    `strata:"default:o'brien); DROP TABLE x; --"`
		On   bool      `strata:"default:true"`
		At   time.Time `strata:"default:now()"`
	}{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.fields[m.byColumn["role"]].defaultSQL, `'o''brien); DROP TABLE x; --'`; got != want {
		t.Errorf("text default = %s, want %s", got, want)
	}
	if got := m.fields[m.byColumn["on"]].defaultSQL; got != "TRUE" {
		t.Errorf("bool default = %s", got)
	}
	if got := m.fields[m.byColumn["at"]].defaultSQL; got != "now()" {
		t.Errorf("time default = %s", got)
	}
}
