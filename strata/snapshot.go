package strata

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

// isFlat reports whether assignment alone copies values of t completely.
func isFlat(t reflect.Type) bool {
	if v, ok := flatCache.Load(t); ok {
		return v.(bool)
	}
	v := flatVisit(t)
	flatCache.Store(t, v)
	return v
}

func flatVisit(t reflect.Type) bool {
	if t == timeType {
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

// deepCopy copies src into dst (both addressable values of one type),
// sharing nothing mutable with src.
func deepCopy(dst, src reflect.Value) {
	if isFlat(src.Type()) {
		dst.Set(src)
		return
	}
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopy(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if isFlat(src.Type().Elem()) {
			reflect.Copy(s, src)
		} else {
			for i := range src.Len() {
				deepCopy(s.Index(i), src.Index(i))
			}
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		et := src.Type().Elem()
		it := src.MapRange()
		for it.Next() {
			v := reflect.New(et).Elem()
			deepCopy(v, it.Value())
			m.SetMapIndex(it.Key(), v) // keys are comparable values: copied by assignment
		}
		dst.Set(m)
	case reflect.Array:
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Interface:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		deepCopy(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}
