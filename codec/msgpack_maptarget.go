package codec

import (
	"encoding"
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// The msgpack library has one decoding path that the framing walk cannot
// see: when it decodes into a map and the input holds an extension value
// there, it skips the extension's header and reads a map header from the
// extension's payload (DecodeMapLen in msgpack v5). A timestamp payload can
// thus claim billions of entries, and for map[string]any the library reserves
// them all (found by FuzzMsgPackUnmarshal). Well-formed input never puts an
// extension where a map is expected, so checkMapTargets walks the input
// alongside the target's Go type and rejects exactly that case. It only runs
// when the target type can hold a map and the input holds an extension.

var errExtAtMap = errors.New("an extension value stands where a map is expected")

var (
	customDecoderType = reflect.TypeFor[msgpack.CustomDecoder]()
	unmarshalerType   = reflect.TypeFor[msgpack.Unmarshaler]()
	binaryUnmarshaler = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether values of t are decoded by their own code
// (time.Time included) rather than structurally.
func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	for _, it := range []reflect.Type{customDecoderType, unmarshalerType, binaryUnmarshaler, textUnmarshaler} {
		if t.Implements(it) || pt.Implements(it) {
			return true
		}
	}
	return false
}

var holdsMapCache sync.Map // reflect.Type -> bool

// holdsMap reports whether decoding into t can reach a map-kind target
// (through pointers, slices, arrays, struct fields and map values; not
// through interfaces, below which the library never takes that path).
func holdsMap(t reflect.Type) bool {
	if v, ok := holdsMapCache.Load(t); ok {
		return v.(bool)
	}
	v := holdsMapVisit(t, map[reflect.Type]bool{})
	holdsMapCache.Store(t, v)
	return v
}

func holdsMapVisit(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] || decodesItself(t) {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Map:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsMapVisit(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range structFields(t).list {
			if holdsMapVisit(f, seen) {
				return true
			}
		}
	}
	return false
}

// fieldSet is how the library finds a struct's fields: by key, or by
// position for structs encoded as arrays.
type fieldSet struct {
	byName map[string]reflect.Type
	list   []reflect.Type
}

var fieldsCache sync.Map // reflect.Type -> *fieldSet

// structFields mirrors the library's field naming: the msgpack tag's name,
// else the Go name; "-" and unexported fields are left out; anonymous struct
// fields are also inlined; alias:NAME options add a second key.
func structFields(t reflect.Type) *fieldSet {
	if v, ok := fieldsCache.Load(t); ok {
		return v.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string]reflect.Type{}}
	addStructFields(fs, t, map[reflect.Type]bool{})
	fieldsCache.Store(t, fs)
	return fs
}

func addStructFields(fs *fieldSet, t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("msgpack"), ",")
		if tag[0] == "-" || (f.PkgPath != "" && !f.Anonymous) {
			continue
		}
		name := tag[0]
		if name == "" {
			name = f.Name
		}
		fs.byName[name] = f.Type
		fs.list = append(fs.list, f.Type)
		for _, opt := range tag[1:] {
			if alias, ok := strings.CutPrefix(opt, "alias:"); ok {
				fs.byName[alias] = f.Type
			}
		}
		if f.Anonymous {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && !decodesItself(et) {
				addStructFields(fs, et, seen)
			}
		}
	}
}

// checkMapTargets walks the value at data[0:] (already framing-checked) as
// the library would decode it into t.
func checkMapTargets(data []byte, t reflect.Type) error {
	_, err := walkTyped(data, 0, t)
	return err
}

// walkTyped returns the position after the value at pos, decoded into t.
func walkTyped(data []byte, pos int, t reflect.Type) (int, error) {
	next, items, extPayload, _ := token(data, pos)
	isNil := data[pos] == 0xc0
	if isNil || decodesItself(t) {
		return skipValue(data, pos), nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return walkTyped(data, pos, t.Elem())
	case reflect.Map:
		if extPayload > 0 || isExt(data[pos]) {
			return 0, errExtAtMap
		}
		if !isMap(data[pos]) {
			return skipValue(data, pos), nil
		}
		for i := 0; i < items; i += 2 {
			next = skipValue(data, next)
			var err error
			if next, err = walkTyped(data, next, t.Elem()); err != nil {
				return 0, err
			}
		}
		return next, nil
	case reflect.Slice, reflect.Array:
		if !isArray(data[pos]) {
			return skipValue(data, pos), nil
		}
		for range items {
			var err error
			if next, err = walkTyped(data, next, t.Elem()); err != nil {
				return 0, err
			}
		}
		return next, nil
	case reflect.Struct:
		fs := structFields(t)
		switch {
		case isMap(data[pos]):
			for i := 0; i < items; i += 2 {
				key, keyEnd := stringAt(data, next)
				ft, ok := fs.byName[key]
				next = keyEnd
				var err error
				if !ok {
					next = skipValue(data, next)
				} else if next, err = walkTyped(data, next, ft); err != nil {
					return 0, err
				}
			}
			return next, nil
		case isArray(data[pos]):
			for i := range items {
				var err error
				if i >= len(fs.list) {
					next = skipValue(data, next)
				} else if next, err = walkTyped(data, next, fs.list[i]); err != nil {
					return 0, err
				}
			}
			return next, nil
		}
	}
	return skipValue(data, pos), nil
}

// skipValue returns the position after the complete value at pos.
func skipValue(data []byte, pos int) int {
	pending := 1
	for pending > 0 && pos < len(data) {
		next, items, _, ok := token(data, pos)
		if !ok {
			return len(data)
		}
		pending += items - 1
		pos = next
	}
	return pos
}

// stringAt returns the string token at pos (empty for other tokens) and the
// position after the whole value.
func stringAt(data []byte, pos int) (string, int) {
	end := skipValue(data, pos)
	c := data[pos]
	switch {
	case c >= 0xa0 && c <= 0xbf:
		return string(data[pos+1 : end]), end
	case c == 0xd9:
		return string(data[pos+2 : end]), end
	case c == 0xda:
		return string(data[pos+3 : end]), end
	case c == 0xdb:
		return string(data[pos+5 : end]), end
	}
	return "", end
}

func isMap(c byte) bool   { return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf }
func isArray(c byte) bool { return (c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd }
func isExt(c byte) bool   { return (c >= 0xc7 && c <= 0xc9) || (c >= 0xd4 && c <= 0xd8) }

// hasExt reports whether any token of the (framing-checked) input is an
// extension.
func hasExt(data []byte) bool {
	for pos := 0; pos < len(data); {
		next, _, extPayload, ok := token(data, pos)
		if !ok {
			return false
		}
		if extPayload > 0 || isExt(data[pos]) {
			return true
		}
		pos = next
	}
	return false
}
