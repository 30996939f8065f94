package strata_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/strata"
)

func TestQueryBuilder(t *testing.T) {
	t.Parallel()
	b := strata.Q().Where("level > $1 AND region = $2", 10, "eu-west").
		OrderBy("score").Desc().Limit(25).Offset(50).Fields("id", "username").ForceL3()
	q := b.Build()
	want := strata.Query{
		Where: "level > $1 AND region = $2", Args: []any{10, "eu-west"}, OrderBy: "score", Desc: true,
		Limit: 25, Offset: 50, Fields: []string{"id", "username"}, ForceL3: true,
	}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Fatalf("Build() (-want +got):\n%s", diff)
	}
	// The built Query must not share slices with the builder.
	q2 := b.Fields("score").Build()
	if q.Fields[0] != "id" || q2.Fields[0] != "score" {
		t.Errorf("queries share state: %v %v", q.Fields, q2.Fields)
	}
	q.Args[0] = 99
	if b.Build().Args[0] != 10 {
		t.Error("mutating a built Query changed the builder")
	}
}
