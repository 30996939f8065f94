package model

import (
	"reflect"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/migrate"
	"github.com/google/go-cmp/cmp"
)

type viewFlat struct {
	ID    string `strata:"primary_key"`
	Name  string
	Score int64
}

type viewOmit struct {
	ID     string `strata:"primary_key"`
	Name   string
	Secret string `strata:"omit_cache"`
	Big    string `strata:"omit_l1"`
	Tags   []string
}

type viewTransient struct {
	ID   string `strata:"primary_key"`
	Memo string `strata:"-"`
}

type viewEmbedded struct {
	viewBase
	ID string `strata:"primary_key"`
}

type viewBase struct{ At time.Time }

// The fields each tier holds, and whether a snapshot is one assignment.
func TestTiers(t *testing.T) {
	t.Parallel()
	type view struct {
		Fields []string
		Plain  bool
	}
	type tiers struct{ L1, L2, L3, Read view }
	of := func(m *Model, v View) view {
		out := view{Plain: v.Plain()}
		for _, i := range v.Fields() {
			out.Fields = append(out.Fields, m.Fields[i].Column)
		}
		return out
	}
	tests := []struct {
		name   string
		model  any
		l1Only bool
		want   tiers
	}{
		{"flat", &viewFlat{}, false, tiers{
			L1:   view{[]string{"id", "name", "score"}, true},
			L2:   view{[]string{"id", "name", "score"}, true},
			L3:   view{[]string{"id", "name", "score"}, true},
			Read: view{[]string{"id", "name", "score"}, true},
		}},
		{"omit_cache and omit_l1", &viewOmit{}, false, tiers{
			L1:   view{[]string{"id", "name", "tags"}, false},
			L2:   view{[]string{"id", "name", "big", "tags"}, false},
			L3:   view{[]string{"id", "name", "secret", "big", "tags"}, false},
			Read: view{[]string{"id", "name", "big", "tags"}, false}, // no read through L1: L2's fields
		}},
		{"L1 the only tier keeps omit_l1 fields", &viewOmit{}, true, tiers{
			L1:   view{[]string{"id", "name", "big", "tags"}, false},
			L2:   view{[]string{"id", "name", "big", "tags"}, false},
			L3:   view{[]string{"id", "name", "secret", "big", "tags"}, false},
			Read: view{[]string{"id", "name", "big", "tags"}, false},
		}},
		{"a transient field is never plain", &viewTransient{}, false, tiers{
			L1:   view{[]string{"id"}, false},
			L2:   view{[]string{"id"}, false},
			L3:   view{[]string{"id"}, false},
			Read: view{[]string{"id"}, false},
		}},
		{"an embedded struct is never plain", &viewEmbedded{}, false, tiers{
			L1:   view{[]string{"at", "id"}, false},
			L2:   view{[]string{"at", "id"}, false},
			L3:   view{[]string{"at", "id"}, false},
			Read: view{[]string{"at", "id"}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.model)
			if err != nil {
				t.Fatal(err)
			}
			tv := m.Tiers(tt.l1Only)
			got := tiers{of(m, tv.L1), of(m, tv.L2), of(m, tv.L3), of(m, tv.Read)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tier views (-want +got):\n%s", diff)
			}
		})
	}
}

// A snapshot holds a private copy of the view's fields and zero elsewhere.
func TestViewSnapshot(t *testing.T) {
	t.Parallel()
	m, err := Parse(&viewOmit{})
	if err != nil {
		t.Fatal(err)
	}
	src := viewOmit{ID: "a", Name: "n", Secret: "s", Big: "b", Tags: []string{"x"}}
	tv := m.Tiers(false)
	l1 := tv.L1.Snapshot(reflect.ValueOf(src)).(*viewOmit)
	l2 := tv.L2.Snapshot(reflect.ValueOf(src)).(*viewOmit)
	if diff := cmp.Diff(viewOmit{ID: "a", Name: "n", Tags: []string{"x"}}, *l1); diff != "" {
		t.Errorf("L1 snapshot (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(viewOmit{ID: "a", Name: "n", Big: "b", Tags: []string{"x"}}, *l2); diff != "" {
		t.Errorf("L2 snapshot (-want +got):\n%s", diff)
	}
	src.Tags[0] = "changed"
	if l1.Tags[0] != "x" || l2.Tags[0] != "x" {
		t.Error("a snapshot shares a slice with its source")
	}

	// Copy leaves the fields outside the view as they were.
	dst := viewOmit{Secret: "kept"}
	tv.L2.Copy(reflect.ValueOf(&dst).Elem(), reflect.ValueOf(src))
	if diff := cmp.Diff(viewOmit{ID: "a", Name: "n", Secret: "kept", Big: "b", Tags: []string{"changed"}}, dst); diff != "" {
		t.Errorf("Copy (-want +got):\n%s", diff)
	}
}

func TestViewSnapshotOfPlainModelAllocatesOnce(t *testing.T) {
	m, err := Parse(&viewFlat{})
	if err != nil {
		t.Fatal(err)
	}
	v := m.Tiers(false).L1
	src := reflect.ValueOf(viewFlat{ID: "a"})
	if n := testing.AllocsPerRun(100, func() { _ = v.Snapshot(src) }); n != 1 {
		t.Errorf("a plain snapshot allocated %v times, want 1 (the new value)", n)
	}
}

func TestTableDefinitions(t *testing.T) {
	t.Parallel()
	type row struct {
		ID      string    `strata:"primary_key"`
		Email   string    `strata:"unique"`
		Level   int       `strata:"index,default:1"`
		Key     string    `strata:"encrypted"`
		Born    time.Time `strata:"auto_now_add"`
		Comment *string
	}
	m, err := Parse(&row{})
	if err != nil {
		t.Fatal(err)
	}
	wantDef := l3postgres.TableDef{
		Name: "rows",
		Columns: []l3postgres.Column{
			{Name: "id"}, {Name: "email"}, {Name: "level"}, {Name: "key"},
			{Name: "born", InsertOnly: true}, {Name: "comment"},
		},
		PrimaryKey:  "id",
		PartitionBy: "level",
	}
	if diff := cmp.Diff(wantDef, m.TableDef("rows", "level")); diff != "" {
		t.Errorf("TableDef (-want +got):\n%s", diff)
	}
	wantMig := migrate.Table{
		Name:        "rows",
		PartitionBy: "level",
		RowVersion:  VersionColumn,
		Columns: []migrate.Column{
			{Name: "id", Type: SQLText, PrimaryKey: true},
			{Name: "email", Type: SQLText, Unique: true},
			{Name: "level", Type: SQLBigint, Default: "1"},
			{Name: "key", Type: SQLText, Opaque: true},
			{Name: "born", Type: SQLTimestamptz},
			{Name: "comment", Type: SQLText, Nullable: true},
		},
		Indexes: []migrate.Index{
			{Columns: []string{"level"}},
			{Name: "by_mail", Columns: []string{"email", "level"}, Unique: true},
		},
	}
	got := m.MigrateTable("rows", "level", []migrate.Index{{Name: "by_mail", Columns: []string{"email", "level"}, Unique: true}})
	if diff := cmp.Diff(wantMig, got); diff != "" {
		t.Errorf("MigrateTable (-want +got):\n%s", diff)
	}

	// A model with a column of the version's name keeps it as its own
	// field, and its table gets no row version.
	type owned struct {
		ID        string `strata:"primary_key"`
		StrataVer int64
	}
	mo, err := Parse(&owned{})
	if err != nil {
		t.Fatal(err)
	}
	if rv := mo.MigrateTable("owned", "", nil).RowVersion; rv != "" {
		t.Errorf("a model with a %s column gets RowVersion %q, want none", VersionColumn, rv)
	}
}
