package strata

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// PostgreSQL's timestamptz range: 4714-11-24 BC 00:00 UTC (Go year -4713)
// up to, not including, 294277-01-01 00:00 UTC. Outside it the server
// refuses the value, or, past what pgx's microsecond arithmetic holds, a
// wrapped-around time would be stored.
var (
	minStorableTime = time.Date(-4713, time.November, 24, 0, 0, 0, 0, time.UTC)
	endStorableTime = time.Date(294277, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// checkID refuses, before any round trip, an id that no tier can use: an
// empty one (ErrMissingPrimaryKey) and, for schemas with an L3, one that a
// PostgreSQL text column cannot hold (ErrInvalidModel).
func (st *schemaState) checkID(id string) error {
	if id != "" && !st.truthIsPostgres() {
		return nil // inlined: the common case of an in-memory or Redis schema
	}
	return st.checkIDText(id)
}

// checkIDText is checkID for an empty id or a schema with an L3.
func (st *schemaState) checkIDText(id string) error {
	if id == "" {
		return fmt.Errorf("%w: schema %q: empty id", ErrMissingPrimaryKey, st.Name)
	}
	if st.truthIsPostgres() {
		if why := unstorableText(id); why != "" {
			return fmt.Errorf("%w: schema %q: id %q %s, which PostgreSQL text cannot hold", ErrInvalidModel, st.Name, id, why)
		}
	}
	return nil
}

// checkStorable refuses, before any round trip, a record of an L3 schema
// that PostgreSQL would refuse or store wrongly: a string field (the key
// included) with a NUL byte or invalid UTF-8, a time outside timestamptz's
// range. The error wraps ErrInvalidModel and names the field.
func (st *schemaState) checkStorable(rec reflect.Value) error {
	if !st.truthIsPostgres() {
		return nil
	}
	for i := range st.model.Fields {
		f := &st.model.Fields[i]
		if f.SQLType != model.SQLText && f.SQLType != model.SQLTimestamptz {
			continue
		}
		v := fieldOf(rec, f)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				continue
			}
			v = v.Elem()
		}
		if f.SQLType == model.SQLText {
			if why := unstorableText(v.String()); why != "" {
				return fmt.Errorf("%w: schema %q: field %s %s, which PostgreSQL text cannot hold (use []byte for binary data)", ErrInvalidModel, st.Name, f.GoName, why)
			}
			continue
		}
		if t, ok := v.Interface().(time.Time); ok && (t.Before(minStorableTime) || !t.Before(endStorableTime)) {
			return fmt.Errorf("%w: schema %q: field %s is %s, outside PostgreSQL's timestamptz range (4714-11-24 BC to 294276-12-31 AD)", ErrInvalidModel, st.Name, f.GoName, t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// unstorableText says why s cannot be a PostgreSQL text value, or "".
func unstorableText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL byte"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	return ""
}
