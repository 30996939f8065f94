package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Flags are the boolean struct tag options of one field.
type Flags uint16

// The tag options.
const (
	FlagPrimaryKey Flags = 1 << iota
	FlagUnique
	FlagIndex
	FlagNullable
	FlagOmitCache
	FlagOmitL1
	FlagAutoNowAdd
	FlagAutoNow
	FlagEncrypted
)

var tagFlags = map[string]Flags{
	"primary_key":  FlagPrimaryKey,
	"unique":       FlagUnique,
	"index":        FlagIndex,
	"nullable":     FlagNullable,
	"omit_cache":   FlagOmitCache,
	"omit_l1":      FlagOmitL1,
	"auto_now_add": FlagAutoNowAdd,
	"auto_now":     FlagAutoNow,
	"encrypted":    FlagEncrypted,
}

// SQL column types, per the spec's Go -> PostgreSQL mapping.
const (
	SQLText        = "TEXT"
	SQLBigint      = "BIGINT"
	SQLDouble      = "DOUBLE PRECISION"
	SQLBoolean     = "BOOLEAN"
	SQLTimestamptz = "TIMESTAMPTZ"
	SQLBytea       = "BYTEA"
	SQLJSONB       = "JSONB"
)

// Field is one persisted struct field.
type Field struct {
	GoName     string
	Column     string
	Index      []int // reflect index path (embedded structs are flattened)
	Type       reflect.Type
	SQLType    string
	Nullable   bool // NULL allowed: the nullable tag, or a pointer, slice or map field
	Flags      Flags
	DefaultSQL string        // the SQL DEFAULT expression; "" when none
	DefaultVal reflect.Value // the same default as a Go value of Type
}

// Has reports whether the field carries the tag option flag.
func (f *Field) Has(flag Flags) bool { return f.Flags&flag != 0 }

// Model is what Register learns from a struct type: its persisted fields,
// their columns and tag options.
type Model struct {
	Type     reflect.Type
	Fields   []Field
	PK       int // index of the primary key in Fields
	ByColumn map[string]int
	// Flags is the union of every field's flags, to skip work quickly.
	Flags Flags
	// TimeFields indexes the time.Time and *time.Time fields.
	TimeFields []int
	// JSONFields indexes the fields stored as JSONB.
	JSONFields []int
}

// PKField returns the primary key field.
func (m *Model) PKField() *Field { return &m.Fields[m.PK] }

var TimeType = reflect.TypeFor[time.Time]()

// Parse reads the strata tags of the struct v points to.
func Parse(v any) (*Model, error) {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: Model must be a non-nil pointer to a struct, got %T", ErrInvalidModel, v)
	}
	t := rv.Elem().Type()
	m := &Model{Type: t, PK: -1, ByColumn: map[string]int{}}
	if err := m.addFields(t, nil); err != nil {
		return nil, err
	}
	if m.PK < 0 {
		return nil, fmt.Errorf("%w: %s: tag one string field `strata:\"primary_key\"`", ErrNoPrimaryKey, t)
	}
	return m, nil
}

func (m *Model) addFields(t reflect.Type, index []int) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("strata")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct && sf.Type != TimeType {
			if err := m.addFields(sf.Type, idx); err != nil { // flatten embedded structs
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f, err := parseField(t, sf, tag, idx)
		if err != nil {
			return err
		}
		if prev, dup := m.ByColumn[f.Column]; dup {
			return fmt.Errorf("%w: %s: fields %s and %s both map to column %q", ErrInvalidModel, t, m.Fields[prev].GoName, f.GoName, f.Column)
		}
		if f.Has(FlagPrimaryKey) {
			if m.PK >= 0 {
				return fmt.Errorf("%w: %s: two primary_key fields, %s and %s", ErrInvalidModel, t, m.Fields[m.PK].GoName, f.GoName)
			}
			m.PK = len(m.Fields)
		}
		m.ByColumn[f.Column] = len(m.Fields)
		m.Flags |= f.Flags
		if f.SQLType == SQLTimestamptz {
			m.TimeFields = append(m.TimeFields, len(m.Fields))
		}
		if f.SQLType == SQLJSONB {
			m.JSONFields = append(m.JSONFields, len(m.Fields))
		}
		m.Fields = append(m.Fields, f)
	}
	return nil
}

func parseField(owner reflect.Type, sf reflect.StructField, tag string, index []int) (Field, error) {
	f := Field{GoName: sf.Name, Column: SnakeCase(sf.Name), Index: index, Type: sf.Type}
	fail := func(format string, args ...any) (Field, error) {
		return Field{}, fmt.Errorf("%w: %s.%s: %s", ErrInvalidModel, owner, sf.Name, fmt.Sprintf(format, args...))
	}
	flags, defaultText, hasDefault, err := parseTag(tag)
	if err != nil {
		return fail("%v", err)
	}
	f.Flags = flags
	if !ValidName(f.Column) {
		return fail("column name %q is not a valid identifier", f.Column)
	}
	sqlType, ok := sqlTypeOf(sf.Type)
	if !ok {
		return fail("unsupported field type %s (supported: string, bool, int, int8-64, uint8-32, float32/64, time.Time, []byte, structs, maps, slices, and pointers to these)", sf.Type)
	}
	f.SQLType = sqlType
	// A nil pointer, slice or map is stored as NULL (pgx sends nil as NULL),
	// so those columns accept NULL whatever the tag says; that also keeps a
	// nil slice apart from an empty one in every tier.
	k := sf.Type.Kind()
	f.Nullable = f.Has(FlagNullable) || k == reflect.Pointer || k == reflect.Slice || k == reflect.Map
	if why := f.flagConflict(hasDefault); why != "" {
		return fail("%s", why)
	}
	if hasDefault {
		if f.Has(FlagEncrypted) {
			return fail("an encrypted field cannot have a default (the column holds ciphertext)")
		}
		sqlDefault, goDefault, err := parseDefault(defaultText, f.SQLType, sf.Type)
		if err != nil {
			return fail("default:%s: %v", defaultText, err)
		}
		f.DefaultSQL, f.DefaultVal = sqlDefault, goDefault
	}
	return f, nil
}

// parseTag reads a strata tag's options: flags and an optional default:X.
func parseTag(tag string) (flags Flags, defaultText string, hasDefault bool, err error) {
	if tag == "" {
		return 0, "", false, nil
	}
	for _, opt := range strings.Split(tag, ",") {
		if d, ok := strings.CutPrefix(opt, "default:"); ok {
			defaultText, hasDefault = d, true
			continue
		}
		flag, ok := tagFlags[opt]
		if !ok {
			return 0, "", false, fmt.Errorf("unknown strata tag option %q (options: primary_key, unique, index, nullable, omit_cache, omit_l1, default:X, auto_now_add, auto_now, encrypted, -)", opt)
		}
		flags |= flag
	}
	return flags, defaultText, hasDefault, nil
}

// flagConflict says why f's flags do not fit its type or each other, or
// returns "".
func (f *Field) flagConflict(hasDefault bool) string {
	base := f.Type
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	switch {
	case f.Has(FlagPrimaryKey) && f.Type.Kind() != reflect.String:
		return fmt.Sprintf("primary_key must be a string field, got %s", f.Type)
	case f.Has(FlagPrimaryKey) && f.Flags&(FlagNullable|FlagOmitCache|FlagOmitL1|FlagEncrypted|FlagAutoNow|FlagAutoNowAdd) != 0:
		return "primary_key cannot be combined with nullable, omit_cache, omit_l1, encrypted or auto_now(_add)"
	case f.Has(FlagPrimaryKey) && hasDefault:
		return "primary_key cannot have a default"
	case f.Has(FlagEncrypted) && f.Type.Kind() != reflect.String:
		return fmt.Sprintf("encrypted is for string fields only, got %s", f.Type)
	case f.Flags&(FlagAutoNow|FlagAutoNowAdd) != 0 && base != TimeType:
		return fmt.Sprintf("auto_now and auto_now_add are for time.Time fields, got %s", f.Type)
	case f.Has(FlagAutoNow) && f.Has(FlagAutoNowAdd):
		return "auto_now and auto_now_add exclude each other"
	}
	return ""
}

// sqlTypeOf maps a Go type to its PostgreSQL column type.
func sqlTypeOf(t reflect.Type) (string, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		if t.Kind() == reflect.Pointer {
			return "", false
		}
	}
	if t == TimeType {
		return SQLTimestamptz, true
	}
	switch t.Kind() {
	case reflect.String:
		return SQLText, true
	case reflect.Bool:
		return SQLBoolean, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return SQLBigint, true
	case reflect.Float32, reflect.Float64:
		return SQLDouble, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return SQLBytea, true
		}
		return SQLJSONB, jsonable(t)
	case reflect.Struct, reflect.Map, reflect.Array:
		return SQLJSONB, jsonable(t)
	}
	// uint, uint64 and uintptr do not fit BIGINT; complex numbers, channels,
	// functions and interfaces have no column type.
	return "", false
}

// jsonable reports whether encoding/json can round-trip values of t.
func jsonable(t reflect.Type) bool {
	_, err := json.Marshal(reflect.Zero(t).Interface())
	if err != nil {
		return false
	}
	switch t.Kind() {
	case reflect.Map:
		k := t.Key().Kind()
		return k == reflect.String || (k >= reflect.Int && k <= reflect.Uint64)
	}
	return true
}

// parseDefault turns a default:X tag into a SQL DEFAULT expression (always
// a literal, quoted where needed, never raw tag text) and the same value in
// Go.
func parseDefault(text, sqlType string, t reflect.Type) (string, reflect.Value, error) {
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	v := reflect.New(base).Elem()
	switch sqlType {
	case SQLText:
		s := text
		if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
			s = strings.ReplaceAll(s[1:len(s)-1], "''", "'")
		}
		v.SetString(s)
		return quoteLiteral(s), v, nil
	case SQLBigint, SQLDouble:
		return parseNumberDefault(text, v)
	case SQLBoolean:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a bool: %w", err)
		}
		v.SetBool(b)
		return strings.ToUpper(strconv.FormatBool(b)), v, nil
	case SQLTimestamptz:
		return parseTimeDefault(text, v)
	case SQLJSONB:
		if err := json.Unmarshal([]byte(text), v.Addr().Interface()); err != nil {
			return "", reflect.Value{}, fmt.Errorf("not JSON for %s: %w", base, err)
		}
		return quoteLiteral(text) + "::jsonb", v, nil
	}
	return "", reflect.Value{}, fmt.Errorf("%s columns take no default", sqlType)
}

// parseNumberDefault parses the default of an integer or float field into
// v, a settable value of the field's (pointed-to) type.
func parseNumberDefault(text string, v reflect.Value) (string, reflect.Value, error) {
	base := v.Type()
	switch k := base.Kind(); {
	case k >= reflect.Uint && k <= reflect.Uint64:
		n, err := strconv.ParseUint(text, 10, base.Bits())
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a %s: %w", base, err)
		}
		v.SetUint(n)
		return strconv.FormatUint(n, 10), v, nil
	case k == reflect.Float32 || k == reflect.Float64:
		x, err := strconv.ParseFloat(text, base.Bits())
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a %s: %w", base, err)
		}
		v.SetFloat(x)
		return strconv.FormatFloat(x, 'g', -1, 64), v, nil
	default:
		n, err := strconv.ParseInt(text, 10, base.Bits())
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a %s: %w", base, err)
		}
		v.SetInt(n)
		return strconv.FormatInt(n, 10), v, nil
	}
}

// parseTimeDefault parses the default of a time.Time field: now() (filled
// at write time, like auto_now_add) or an RFC 3339 time.
func parseTimeDefault(text string, v reflect.Value) (string, reflect.Value, error) {
	switch strings.ToLower(text) {
	case "now", "now()", "current_timestamp":
		return "now()", reflect.Value{}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return "", reflect.Value{}, fmt.Errorf("want now() or an RFC 3339 time: %w", err)
	}
	v.Set(reflect.ValueOf(at))
	return quoteLiteral(at.Format(time.RFC3339Nano)), v, nil
}

// quoteLiteral renders s as a SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
