package strata

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"strings"
)

// A Config holds credentials: the password inside PostgresDSN,
// RedisPassword and EncryptionKey. Config implements fmt.Formatter,
// fmt.Stringer, fmt.GoStringer and slog.LogValuer so that printing or
// logging one, with any verb, shows every field but never a secret:
//
//   - a DSN or URL field keeps everything but its password (URL userinfo, or
//     a password= / sslpassword= setting in key=value or query form), which
//     becomes REDACTED; a DSN that cannot be parsed is REDACTED whole;
//   - a field holding a pointer to a struct (RedisClient, PostgresPool,
//     RedisTLS, a Logger, ...) prints as its type only, since connection
//     settings and private keys sit deep inside;
//   - a password, key, secret or token field that is set prints as REDACTED
//     (an unset one prints as its zero value, so "no password" stays
//     visible).
//
// The rules go by field name, so a field added later is covered too.

// redactedText replaces a secret.
const redactedText = "REDACTED"

// secretText prints as REDACTED with any verb (quoted under %#v, where the
// output is Go syntax).
type secretText struct{}

func (secretText) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "%q", redactedText)
		return
	}
	fmt.Fprint(f, redactedText)
}

// String returns c as %+v prints it: every field by name, secrets redacted.
func (c Config) String() string { return fmt.Sprintf("%+v", c) }

// GoString returns c as %#v prints it, secrets redacted.
func (c Config) GoString() string { return fmt.Sprintf("%#v", c) }

// Format prints c as fmt prints a struct (%v: values; %+v: names and
// values; %#v: Go syntax), with its secrets redacted. Every other verb
// prints as %v (or %+v with the + flag), so no verb can show a secret.
func (c Config) Format(f fmt.State, verb rune) {
	fields := c.redactedFields()
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, "strata.Config{")
		for i, fd := range fields {
			if i > 0 {
				fmt.Fprint(f, ", ")
			}
			fmt.Fprintf(f, "%s:%#v", fd.name, fd.value)
		}
		fmt.Fprint(f, "}")
	case f.Flag('+'):
		fmt.Fprint(f, "{")
		for i, fd := range fields {
			if i > 0 {
				fmt.Fprint(f, " ")
			}
			fmt.Fprintf(f, "%s:%+v", fd.name, fd.value)
		}
		fmt.Fprint(f, "}")
	default:
		fmt.Fprint(f, "{")
		for i, fd := range fields {
			if i > 0 {
				fmt.Fprint(f, " ")
			}
			fmt.Fprintf(f, "%v", fd.value)
		}
		fmt.Fprint(f, "}")
	}
}

// LogValue logs c as a group of its fields, secrets redacted.
func (c Config) LogValue() slog.Value {
	fields := c.redactedFields()
	attrs := make([]slog.Attr, len(fields))
	for i, fd := range fields {
		switch v := fd.value.(type) {
		case secretText:
			attrs[i] = slog.String(fd.name, redactedText)
		case typeOnly:
			attrs[i] = slog.String(fd.name, string(v))
		default:
			attrs[i] = slog.Any(fd.name, fd.value)
		}
	}
	return slog.GroupValue(attrs...)
}

type namedValue struct {
	name  string
	value any
}

// redactedFields returns c's exported fields in order, secrets replaced.
func (c Config) redactedFields() []namedValue {
	v := reflect.ValueOf(c)
	t := v.Type()
	out := make([]namedValue, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		value := fv.Interface()
		switch lower := strings.ToLower(sf.Name); {
		case fv.Kind() == reflect.String && (strings.HasSuffix(lower, "dsn") || strings.HasSuffix(lower, "url")):
			value = redactDSN(fv.String())
		case (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface) && !fv.IsNil() && isOpaque(fv):
			// A client, pool or *tls.Config holds credentials and
			// private keys deep inside: print only its type.
			value = typeOnly(fmt.Sprintf("%T", value))
		case strings.Contains(lower, "password") || strings.HasSuffix(lower, "key") || strings.HasSuffix(lower, "keys") ||
			strings.Contains(lower, "secret") || strings.Contains(lower, "token"):
			if !fv.IsZero() {
				value = secretText{}
			}
		}
		out = append(out, namedValue{sf.Name, value})
	}
	return out
}

// isOpaque reports whether v, a non-nil pointer or interface, leads to a
// pointer to a struct: something fmt would walk field by field.
func isOpaque(v reflect.Value) bool {
	for v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	return v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct
}

// typeOnly prints as a type name, with any verb (quoted under %#v).
type typeOnly string

func (t typeOnly) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "%q", string(t))
		return
	}
	fmt.Fprint(f, string(t))
}

// kvSecret matches a password setting of a key=value DSN, with its value
// unquoted or single-quoted (backslash escapes allowed).
var kvSecret = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)

// redactDSN returns dsn (a URL, or libpq key=value settings) with its
// passwords replaced; a URL that does not parse is replaced whole.
func redactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if !strings.Contains(dsn, "://") {
		return kvSecret.ReplaceAllString(dsn, "${1}"+redactedText)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return redactedText
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redactedText)
		}
	}
	q, changed := u.Query(), false
	for k := range q {
		if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
			q.Set(k, redactedText)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Format prints a DataStore as its Config (secrets redacted), since fmt
// would otherwise walk the unexported fields, Config included, verbatim.
func (ds *DataStore) Format(f fmt.State, verb rune) {
	if ds == nil {
		fmt.Fprint(f, "<nil>")
		return
	}
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "&strata.DataStore{cfg:%#v}", ds.cfg)
		return
	}
	if f.Flag('+') {
		fmt.Fprintf(f, "&{cfg:%+v}", ds.cfg)
		return
	}
	fmt.Fprintf(f, "&{%v}", ds.cfg)
}
