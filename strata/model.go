package strata

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// fieldFlags are the boolean struct tag options of one field.
type fieldFlags uint16

const (
	flagPrimaryKey fieldFlags = 1 << iota
	flagUnique
	flagIndex
	flagNullable
	flagOmitCache
	flagOmitL1
	flagAutoNowAdd
	flagAutoNow
	flagEncrypted
)

var tagFlags = map[string]fieldFlags{
	"primary_key":  flagPrimaryKey,
	"unique":       flagUnique,
	"index":        flagIndex,
	"nullable":     flagNullable,
	"omit_cache":   flagOmitCache,
	"omit_l1":      flagOmitL1,
	"auto_now_add": flagAutoNowAdd,
	"auto_now":     flagAutoNow,
	"encrypted":    flagEncrypted,
}

// SQL column types, per the spec's Go -> PostgreSQL mapping.
const (
	sqlText        = "TEXT"
	sqlBigint      = "BIGINT"
	sqlDouble      = "DOUBLE PRECISION"
	sqlBoolean     = "BOOLEAN"
	sqlTimestamptz = "TIMESTAMPTZ"
	sqlBytea       = "BYTEA"
	sqlJSONB       = "JSONB"
)

// field is one persisted struct field.
type field struct {
	goName     string
	column     string
	index      []int // reflect index path (embedded structs are flattened)
	typ        reflect.Type
	sqlType    string
	nullable   bool // NULL allowed: the nullable tag, or a pointer field
	flags      fieldFlags
	defaultSQL string        // the SQL DEFAULT expression; "" when none
	defaultVal reflect.Value // the same default as a Go value of typ
}

func (f *field) has(flag fieldFlags) bool { return f.flags&flag != 0 }

// model is what Register learns from a struct type.
type model struct {
	typ      reflect.Type
	fields   []field
	pk       int // index of the primary key in fields
	byColumn map[string]int
	// flags is the union of every field's flags, to skip work quickly.
	flags fieldFlags
	// timeFields indexes the time.Time and *time.Time fields.
	timeFields []int
	// jsonFields indexes the fields stored as JSONB.
	jsonFields []int
}

func (m *model) pkField() *field { return &m.fields[m.pk] }

var timeType = reflect.TypeFor[time.Time]()

// parseModel reads the strata tags of the struct v points to.
func parseModel(v any) (*model, error) {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: Model must be a non-nil pointer to a struct, got %T", ErrInvalidModel, v)
	}
	t := rv.Elem().Type()
	m := &model{typ: t, pk: -1, byColumn: map[string]int{}}
	if err := m.addFields(t, nil); err != nil {
		return nil, err
	}
	if m.pk < 0 {
		return nil, fmt.Errorf("%w: %s: tag one string field `strata:\"primary_key\"`", ErrNoPrimaryKey, t)
	}
	return m, nil
}

func (m *model) addFields(t reflect.Type, index []int) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("strata")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct && sf.Type != timeType {
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
		if prev, dup := m.byColumn[f.column]; dup {
			return fmt.Errorf("%w: %s: fields %s and %s both map to column %q", ErrInvalidModel, t, m.fields[prev].goName, f.goName, f.column)
		}
		if f.has(flagPrimaryKey) {
			if m.pk >= 0 {
				return fmt.Errorf("%w: %s: two primary_key fields, %s and %s", ErrInvalidModel, t, m.fields[m.pk].goName, f.goName)
			}
			m.pk = len(m.fields)
		}
		m.byColumn[f.column] = len(m.fields)
		m.flags |= f.flags
		if f.sqlType == sqlTimestamptz {
			m.timeFields = append(m.timeFields, len(m.fields))
		}
		if f.sqlType == sqlJSONB {
			m.jsonFields = append(m.jsonFields, len(m.fields))
		}
		m.fields = append(m.fields, f)
	}
	return nil
}

func parseField(owner reflect.Type, sf reflect.StructField, tag string, index []int) (field, error) {
	f := field{goName: sf.Name, column: snakeCase(sf.Name), index: index, typ: sf.Type}
	fail := func(format string, args ...any) (field, error) {
		return field{}, fmt.Errorf("%w: %s.%s: %s", ErrInvalidModel, owner, sf.Name, fmt.Sprintf(format, args...))
	}
	var defaultText string
	hasDefault := false
	if tag != "" {
		for _, opt := range strings.Split(tag, ",") {
			if d, ok := strings.CutPrefix(opt, "default:"); ok {
				defaultText, hasDefault = d, true
				continue
			}
			flag, ok := tagFlags[opt]
			if !ok {
				return fail("unknown strata tag option %q (options: primary_key, unique, index, nullable, omit_cache, omit_l1, default:X, auto_now_add, auto_now, encrypted, -)", opt)
			}
			f.flags |= flag
		}
	}
	if !validName(f.column) {
		return fail("column name %q is not a valid identifier", f.column)
	}
	sqlType, ok := sqlTypeOf(sf.Type)
	if !ok {
		return fail("unsupported field type %s (supported: string, bool, int, int8-64, uint8-32, float32/64, time.Time, []byte, structs, maps, slices, and pointers to these)", sf.Type)
	}
	f.sqlType = sqlType
	// A nil pointer, slice or map is stored as NULL (pgx sends nil as NULL),
	// so those columns accept NULL whatever the tag says; that also keeps a
	// nil slice apart from an empty one in every tier.
	k := sf.Type.Kind()
	f.nullable = f.has(flagNullable) || k == reflect.Pointer || k == reflect.Slice || k == reflect.Map
	base := sf.Type
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	switch {
	case f.has(flagPrimaryKey) && sf.Type.Kind() != reflect.String:
		return fail("primary_key must be a string field, got %s", sf.Type)
	case f.has(flagPrimaryKey) && f.flags&(flagNullable|flagOmitCache|flagOmitL1|flagEncrypted|flagAutoNow|flagAutoNowAdd) != 0:
		return fail("primary_key cannot be combined with nullable, omit_cache, omit_l1, encrypted or auto_now(_add)")
	case f.has(flagPrimaryKey) && hasDefault:
		return fail("primary_key cannot have a default")
	case f.has(flagEncrypted) && sf.Type.Kind() != reflect.String:
		return fail("encrypted is for string fields only, got %s", sf.Type)
	case f.flags&(flagAutoNow|flagAutoNowAdd) != 0 && base != timeType:
		return fail("auto_now and auto_now_add are for time.Time fields, got %s", sf.Type)
	case f.has(flagAutoNow) && f.has(flagAutoNowAdd):
		return fail("auto_now and auto_now_add exclude each other")
	}
	if hasDefault {
		if f.has(flagEncrypted) {
			return fail("an encrypted field cannot have a default (the column holds ciphertext)")
		}
		sqlDefault, goDefault, err := parseDefault(defaultText, f.sqlType, sf.Type)
		if err != nil {
			return fail("default:%s: %v", defaultText, err)
		}
		f.defaultSQL, f.defaultVal = sqlDefault, goDefault
	}
	return f, nil
}

// sqlTypeOf maps a Go type to its PostgreSQL column type.
func sqlTypeOf(t reflect.Type) (string, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		if t.Kind() == reflect.Pointer {
			return "", false
		}
	}
	if t == timeType {
		return sqlTimestamptz, true
	}
	switch t.Kind() {
	case reflect.String:
		return sqlText, true
	case reflect.Bool:
		return sqlBoolean, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return sqlBigint, true
	case reflect.Float32, reflect.Float64:
		return sqlDouble, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return sqlBytea, true
		}
		return sqlJSONB, jsonable(t)
	case reflect.Struct, reflect.Map, reflect.Array:
		return sqlJSONB, jsonable(t)
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
	case sqlText:
		s := text
		if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
			s = strings.ReplaceAll(s[1:len(s)-1], "''", "'")
		}
		v.SetString(s)
		return quoteLiteral(s), v, nil
	case sqlBigint:
		if base.Kind() >= reflect.Uint && base.Kind() <= reflect.Uint64 {
			n, err := strconv.ParseUint(text, 10, base.Bits())
			if err != nil {
				return "", reflect.Value{}, fmt.Errorf("not a %s: %w", base, err)
			}
			v.SetUint(n)
			return strconv.FormatUint(n, 10), v, nil
		}
		n, err := strconv.ParseInt(text, 10, base.Bits())
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a %s: %w", base, err)
		}
		v.SetInt(n)
		return strconv.FormatInt(n, 10), v, nil
	case sqlDouble:
		x, err := strconv.ParseFloat(text, base.Bits())
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a %s: %w", base, err)
		}
		v.SetFloat(x)
		return strconv.FormatFloat(x, 'g', -1, 64), v, nil
	case sqlBoolean:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("not a bool: %w", err)
		}
		v.SetBool(b)
		return strings.ToUpper(strconv.FormatBool(b)), v, nil
	case sqlTimestamptz:
		switch strings.ToLower(text) {
		case "now", "now()", "current_timestamp":
			return "now()", reflect.Value{}, nil // filled at write time, like auto_now_add
		}
		at, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return "", reflect.Value{}, fmt.Errorf("want now() or an RFC 3339 time: %w", err)
		}
		v.Set(reflect.ValueOf(at))
		return quoteLiteral(at.Format(time.RFC3339Nano)), v, nil
	case sqlJSONB:
		if err := json.Unmarshal([]byte(text), v.Addr().Interface()); err != nil {
			return "", reflect.Value{}, fmt.Errorf("not JSON for %s: %w", base, err)
		}
		return quoteLiteral(text) + "::jsonb", v, nil
	}
	return "", reflect.Value{}, fmt.Errorf("%s columns take no default", sqlType)
}

// quoteLiteral renders s as a SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
