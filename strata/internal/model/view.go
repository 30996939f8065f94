package model

import "reflect"

// View is the part of a model one tier holds: the fields it keeps, in model
// order. A snapshot for the tier is a private deep copy of those fields,
// with every other field zero.
type View struct {
	m      *Model
	fields []int
	plain  bool
}

// View returns the view of the fields keep accepts.
func (m *Model) View(keep func(*Field) bool) View {
	v := View{m: m}
	for i := range m.Fields {
		if keep(&m.Fields[i]) {
			v.fields = append(v.fields, i)
		}
	}
	v.plain = len(v.fields) == len(m.Fields) && m.assignable()
	return v
}

// assignable reports whether a plain assignment copies a value of the
// model completely: the type holds no reference, and every struct field is
// a model field (none skipped, none flattened from an embedded struct).
func (m *Model) assignable() bool {
	if !IsFlat(m.Type) || m.Type.NumField() != len(m.Fields) {
		return false
	}
	for i := range m.Fields {
		if len(m.Fields[i].Index) != 1 {
			return false
		}
	}
	return true
}

// Tier views of a model: which fields each tier holds.
type Tiers struct {
	// L1 holds every field but omit_cache and omit_l1 ones — or, when L1
	// is the only copy (memTruth), every field L2 would hold: omit_l1
	// cannot apply.
	L1 View
	// L2 holds every field but omit_cache ones.
	L2 View
	// L3 holds every field.
	L3 View
	// Read is what a read returns: L1's fields where reads go through L1,
	// and for a model with omit_l1 fields, which does not read through L1
	// (unless L1 is the only copy), every field L2 holds.
	Read View
}

// Tiers returns the model's tier views. l1Only is set when L1 is the
// schema's only tier.
func (m *Model) Tiers(l1Only bool) Tiers {
	t := Tiers{
		L2: m.View(func(f *Field) bool { return !f.Has(FlagOmitCache) }),
		L3: m.View(func(*Field) bool { return true }),
	}
	if l1Only {
		t.L1 = t.L2
	} else {
		t.L1 = m.View(func(f *Field) bool { return f.Flags&(FlagOmitCache|FlagOmitL1) == 0 })
	}
	t.Read = t.L1
	if !l1Only && m.Flags&FlagOmitL1 != 0 {
		t.Read = t.L2
	}
	return t
}

// Fields returns the positions (in Model.Fields) of the view's fields.
// The slice is shared: do not change it.
func (v View) Fields() []int { return v.fields }

// Plain reports whether the view holds every field of a model that copies
// by assignment: a snapshot is then one assignment.
func (v View) Plain() bool { return v.plain }

// Whole reports whether the view holds every model field.
func (v View) Whole() bool { return len(v.fields) == len(v.m.Fields) }

// Copy deep-copies the view's fields from src into dst, two addressable
// values of the model's type, leaving dst's other fields as they are.
func (v View) Copy(dst, src reflect.Value) {
	if v.plain {
		dst.Set(src)
		return
	}
	for _, i := range v.fields {
		f := &v.m.Fields[i]
		DeepCopy(dst.FieldByIndex(f.Index), src.FieldByIndex(f.Index))
	}
}

// Snapshot returns a new *Model (as any) holding a deep copy of the view's
// fields of rec, every other field zero.
func (v View) Snapshot(rec reflect.Value) any {
	p := reflect.New(v.m.Type)
	v.Copy(p.Elem(), rec)
	return p.Interface()
}
