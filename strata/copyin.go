package strata

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// A value passed to a write is copied once, by copyIn, before anything else
// touches it. A model field may hold a reference cycle (a pointer back to an
// enclosing struct, a slice or map that contains itself): copying or
// encoding one would recurse until the stack overflows and the process dies,
// so copyIn refuses such a value with an error naming the field path.
//
// The check costs nothing for the usual value: the copy runs with a budget
// of shallowRefs references, and only a value that goes deeper is walked
// again with the references on the current path remembered, which tells a
// cycle from a merely deep value.
const (
	// shallowRefs is how many references deep the first copy goes before
	// the value is checked for cycles.
	shallowRefs = 64
	// maxRefs is how many references deep a value may nest at all; deeper
	// values are refused, since copying or encoding them could exhaust the
	// stack too.
	maxRefs = 10_000
)

// copyIn sets rec, a zero Model, to a private copy of src, the value a
// caller passed to a write. Fields tagged strata:"-" are never stored, so
// they are copied by plain assignment (they may alias the caller's memory,
// and may hold cycles, such as parent pointers); unexported fields are left
// zero. It returns an error wrapping ErrInvalidModel for a value with a
// reference cycle, or nested more than maxRefs references deep, in the
// fields Strata stores.
func (st *schemaState) copyIn(rec, src reflect.Value) error {
	if st.flat {
		rec.Set(src)
		return nil
	}
	if copyModel(rec, src, shallowRefs) {
		return nil
	}
	if err := checkRefs(src); err != nil {
		return fmt.Errorf("%w: schema %q: %w", ErrInvalidModel, st.Name, err)
	}
	rec.SetZero()
	copyModel(rec, src, maxRefs) // cannot run out: checkRefs measured it
	return nil
}

// copyModel is copyValue for a model struct, with its transient fields
// (strata:"-") assigned rather than copied. Embedded structs without a tag
// are flattened into the model, so their fields follow the same rule.
func copyModel(dst, src reflect.Value, refs int) bool {
	t := src.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		df := dst.Field(i)
		if !df.CanSet() {
			continue
		}
		tag, hasTag := sf.Tag.Lookup("strata")
		switch {
		case tag == "-":
			df.Set(src.Field(i))
		case sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct && sf.Type != model.TimeType:
			if !copyModel(df, src.Field(i), refs) {
				return false
			}
		default:
			if !model.CopyLimited(df, src.Field(i), refs) {
				return false
			}
		}
	}
	return true
}

// refKey identifies what a reference leads to: an address and the type
// stored there (a struct and its first field share an address), and for a
// slice its length (a shorter slice of the same array is another value).
type refKey struct {
	p unsafe.Pointer
	t reflect.Type
	n int
}

// refWalker looks for a reference cycle in a value, depth first, keeping the
// references on the current path and the path's segments for the message.
type refWalker struct {
	onPath map[refKey]int // -> len(path) when the reference was entered
	path   []string       // ".Field", "[3]", "[\"key\"]"
	refs   int            // references on the current path
}

// checkRefs returns an error naming the field path of the first reference
// cycle in the stored fields of src, a model struct, or saying that src
// nests more than maxRefs references deep; nil when there is neither.
func checkRefs(src reflect.Value) error {
	w := &refWalker{onPath: map[refKey]int{}}
	if src.CanAddr() { // a pointer back to the value itself
		w.onPath[refKey{p: src.Addr().UnsafePointer(), t: src.Type()}] = 0
	}
	return w.model(src)
}

func (w *refWalker) model(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tag, hasTag := sf.Tag.Lookup("strata")
		switch {
		case tag == "-":
		case sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct && sf.Type != model.TimeType:
			if err := w.model(v.Field(i)); err != nil {
				return err
			}
		case sf.IsExported():
			w.path = append(w.path, "."+sf.Name)
			if err := w.walk(v.Field(i)); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
	}
	return nil
}

// enter records a reference on the path, or reports the cycle it closes.
func (w *refWalker) enter(k refKey) error {
	if at, ok := w.onPath[k]; ok {
		back := "the value itself"
		if at > 0 {
			back = pathString(w.path[:at])
		}
		return fmt.Errorf("%s refers back to %s (a reference cycle cannot be stored)", pathString(w.path), back)
	}
	if w.refs++; w.refs > maxRefs {
		return fmt.Errorf("%s nests more than %d references deep", pathString(w.path), maxRefs)
	}
	w.onPath[k] = len(w.path)
	return nil
}

func (w *refWalker) leave(k refKey) {
	delete(w.onPath, k)
	w.refs--
}

func (w *refWalker) walk(v reflect.Value) error {
	if model.IsFlat(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return w.within(refKey{p: v.UnsafePointer(), t: v.Type().Elem()}, func() error { return w.walk(v.Elem()) })
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		return w.within(refKey{p: v.UnsafePointer(), t: v.Type(), n: v.Len()}, func() error { return w.walkIndexed(v) })
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		return w.within(refKey{p: v.UnsafePointer(), t: v.Type()}, func() error { return w.walkMap(v) })
	case reflect.Array:
		return w.walkIndexed(v)
	case reflect.Struct:
		return w.walkStruct(v)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if w.refs++; w.refs > maxRefs {
			return fmt.Errorf("%s nests more than %d references deep", pathString(w.path), maxRefs)
		}
		if err := w.walk(v.Elem()); err != nil {
			return err
		}
		w.refs--
	}
	return nil
}

// within walks what the reference k points at with body, k on the path.
func (w *refWalker) within(k refKey, body func() error) error {
	if err := w.enter(k); err != nil {
		return err
	}
	if err := body(); err != nil {
		return err
	}
	w.leave(k)
	return nil
}

// walkIndexed walks the elements of a slice or an array.
func (w *refWalker) walkIndexed(v reflect.Value) error {
	for i := range v.Len() {
		if err := w.elem(fmt.Sprintf("[%d]", i), v.Index(i)); err != nil {
			return err
		}
	}
	return nil
}

// walkMap walks the values of a map.
func (w *refWalker) walkMap(v reflect.Value) error {
	it := v.MapRange()
	for it.Next() {
		if err := w.elem(fmt.Sprintf("[%#v]", it.Key().Interface()), it.Value()); err != nil {
			return err
		}
	}
	return nil
}

// walkStruct walks the exported fields of a struct.
func (w *refWalker) walkStruct(v reflect.Value) error {
	if v.CanAddr() { // a pointer back to this struct closes a cycle here
		k := refKey{p: v.Addr().UnsafePointer(), t: v.Type()}
		if _, ok := w.onPath[k]; !ok {
			w.onPath[k] = len(w.path)
			defer delete(w.onPath, k)
		}
	}
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			if err := w.elem("."+t.Field(i).Name, v.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// elem walks a part of a value under one more path segment.
func (w *refWalker) elem(seg string, v reflect.Value) error {
	w.path = append(w.path, seg)
	err := w.walk(v)
	w.path = w.path[:len(w.path)-1]
	return err
}

// pathString joins path segments into a Go-like field path, eliding the
// middle of a very long one.
func pathString(segs []string) string {
	if len(segs) > 12 {
		return pathString(segs[:6]) + fmt.Sprintf("…(%d more)…", len(segs)-10) + strings.Join(segs[len(segs)-4:], "")
	}
	return strings.TrimPrefix(strings.Join(segs, ""), ".")
}
