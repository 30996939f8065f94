package codectest

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// diff returns "" when want and got are equal in the sense the suite
// requires, else a description of the first difference found. Unlike
// reflect.DeepEqual it compares times as instants (time.Time.Equal), floats
// bit for bit (so -0 differs from 0 and NaN equals NaN), and it tells a nil
// slice or map from an empty one.
func diff(want, got any) string {
	return diffValue("value", reflect.ValueOf(want), reflect.ValueOf(got))
}

func diffValue(path string, w, g reflect.Value) string {
	if w.IsValid() != g.IsValid() {
		return fmt.Sprintf("%s: want valid=%v, got valid=%v", path, w.IsValid(), g.IsValid())
	}
	if !w.IsValid() {
		return ""
	}
	if w.Type() != g.Type() {
		return fmt.Sprintf("%s: want type %s, got %s", path, w.Type(), g.Type())
	}
	if w.Type() == timeType {
		wt, gt := w.Interface().(time.Time), g.Interface().(time.Time)
		if !wt.Equal(gt) {
			return fmt.Sprintf("%s: want instant %s, got %s", path, wt.Format(time.RFC3339Nano), gt.Format(time.RFC3339Nano))
		}
		if strings.Contains(gt.String(), " m=") {
			return fmt.Sprintf("%s: decoded time carries a monotonic reading: %s", path, gt)
		}
		return ""
	}
	switch w.Kind() {
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(w.Float()) != math.Float64bits(g.Float()) && !(math.IsNaN(w.Float()) && math.IsNaN(g.Float())) {
			return fmt.Sprintf("%s: want %v, got %v", path, w.Float(), g.Float())
		}
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() != g.IsNil() {
			return fmt.Sprintf("%s: want nil=%v, got nil=%v", path, w.IsNil(), g.IsNil())
		}
		if !w.IsNil() {
			return diffValue("*"+path, w.Elem(), g.Elem())
		}
	case reflect.Slice:
		if w.IsNil() != g.IsNil() {
			return fmt.Sprintf("%s: want nil=%v, got nil=%v (nil and empty must stay distinct)", path, w.IsNil(), g.IsNil())
		}
		fallthrough
	case reflect.Array:
		if w.Len() != g.Len() {
			return fmt.Sprintf("%s: want length %d, got %d", path, w.Len(), g.Len())
		}
		for i := range w.Len() {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if w.IsNil() != g.IsNil() {
			return fmt.Sprintf("%s: want nil=%v, got nil=%v (nil and empty must stay distinct)", path, w.IsNil(), g.IsNil())
		}
		if w.Len() != g.Len() {
			return fmt.Sprintf("%s: want %d entries, got %d", path, w.Len(), g.Len())
		}
		it := w.MapRange()
		for it.Next() {
			gv := g.MapIndex(it.Key())
			if !gv.IsValid() {
				return fmt.Sprintf("%s: key %v missing", path, it.Key())
			}
			if d := diffValue(fmt.Sprintf("%s[%v]", path, it.Key()), it.Value(), gv); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := range w.NumField() {
			if !w.Type().Field(i).IsExported() {
				continue
			}
			if d := diffValue(path+"."+w.Type().Field(i).Name, w.Field(i), g.Field(i)); d != "" {
				return d
			}
		}
	default:
		if !w.Equal(g) {
			return fmt.Sprintf("%s: want %#v, got %#v", path, w.Interface(), g.Interface())
		}
	}
	return ""
}
