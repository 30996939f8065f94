package l2redis

import (
	"strconv"
	"testing"
)

// TestGroupTableStaysBounded: a Store used with ever new schema names
// (say, one per tenant) does not remember a group for each forever.
func TestGroupTableStaysBounded(t *testing.T) {
	var tab groupTable
	for i := range 3 * maxGroups {
		tab.get(groupKey{op: OpSet, schema: "tenant-" + strconv.Itoa(i)})
		if len(tab.m) > maxGroups {
			t.Fatalf("after %d schemas the table holds %d groups, want at most %d", i+1, len(tab.m), maxGroups)
		}
	}
	k := groupKey{op: OpSet, schema: "s"}
	if tab.get(k) != tab.get(k) {
		t.Fatal("two calls of one group got different groups")
	}
}
