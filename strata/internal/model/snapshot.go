package model

import (
	"reflect"
	"sync"
)

// L1 holds snapshots: private deep copies of model values. A value passed to
// Set is copied before it is cached, and a cached value is copied into the
// caller's destination on every hit, so no caller can reach the cache's
// memory through a slice, map or pointer.
//
// The copy plan is computed once per type. A "flat" type — one with no
// pointers, slices, maps, interfaces or channels anywhere inside (strings and
// time.Time are immutable and may be shared) — is copied by plain assignment,
// which allocates nothing.

var flatCache sync.Map // reflect.Type -> bool

// IsFlat reports whether assignment alone copies values of t completely.
func IsFlat(t reflect.Type) bool {
	if v, ok := flatCache.Load(t); ok {
		return v.(bool)
	}
	v := flatVisit(t)
	flatCache.Store(t, v)
	return v
}

func flatVisit(t reflect.Type) bool {
	if t == TimeType {
		return true // its *Location is never mutated
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return false
	case reflect.Array:
		return flatVisit(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !flatVisit(t.Field(i).Type) {
				return false
			}
		}
	}
	return true
}

// DeepCopy copies src into dst (both addressable values of one type),
// sharing nothing mutable with src. src must hold no reference cycle: the
// values Strata keeps never do (copyIn refuses a caller's value that does,
// and decoded values cannot).
func DeepCopy(dst, src reflect.Value) { CopyLimited(dst, src, -1) }

// CopyLimited is DeepCopy following at most refs references (pointers, slice
// and map elements, interface values) deep; it returns false, leaving dst
// partly written, when src goes deeper. A negative refs is no limit.
func CopyLimited(dst, src reflect.Value, refs int) bool {
	if IsFlat(src.Type()) {
		dst.Set(src)
		return true
	}
	switch src.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		if src.IsNil() {
			dst.SetZero()
			return true
		}
	}
	switch src.Kind() {
	case reflect.Pointer:
		return copyReferent(dst, src, src.Type().Elem(), refs)
	case reflect.Interface:
		return copyReferent(dst, src, src.Elem().Type(), refs)
	case reflect.Slice:
		return copySlice(dst, src, refs)
	case reflect.Map:
		return copyMap(dst, src, refs)
	case reflect.Array:
		for i := range src.Len() {
			if !CopyLimited(dst.Index(i), src.Index(i), refs) {
				return false
			}
		}
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Field(i).CanSet() && !CopyLimited(dst.Field(i), src.Field(i), refs) {
				return false
			}
		}
	default:
		dst.Set(src)
	}
	return true
}

// copyReferent copies what the non-nil pointer or interface src refers to,
// a t, into a new value and sets dst to it (a pointer to it, for a
// pointer).
func copyReferent(dst, src reflect.Value, t reflect.Type, refs int) bool {
	if refs == 0 {
		return false
	}
	p := reflect.New(t)
	if !CopyLimited(p.Elem(), src.Elem(), refs-1) {
		return false
	}
	if src.Kind() == reflect.Pointer {
		dst.Set(p)
	} else {
		dst.Set(p.Elem())
	}
	return true
}

// copySlice sets dst to a copy of the non-nil slice src.
func copySlice(dst, src reflect.Value, refs int) bool {
	s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
	if IsFlat(src.Type().Elem()) {
		reflect.Copy(s, src)
	} else {
		if refs == 0 {
			return false
		}
		for i := range src.Len() {
			if !CopyLimited(s.Index(i), src.Index(i), refs-1) {
				return false
			}
		}
	}
	dst.Set(s)
	return true
}

// copyMap sets dst to a copy of the non-nil map src.
func copyMap(dst, src reflect.Value, refs int) bool {
	if refs == 0 {
		return false
	}
	m := reflect.MakeMapWithSize(src.Type(), src.Len())
	et := src.Type().Elem()
	it := src.MapRange()
	for it.Next() {
		v := reflect.New(et).Elem()
		if !CopyLimited(v, it.Value(), refs-1) {
			return false
		}
		m.SetMapIndex(it.Key(), v) // keys are comparable values: copied by assignment
	}
	dst.Set(m)
	return true
}
