package strata

import (
	"reflect"
	"testing"
)

// TestSingleSetBookkeepingAllocations: the batch of one Set is one
// allocation, and a Set without options resolves its Clear mask without
// any — a Set's own bookkeeping, before the tiers are asked.
func TestSingleSetBookkeepingAllocations(t *testing.T) {
	rec := reflect.ValueOf(&struct{ ID string }{ID: "a"}).Elem()
	var sink *writeBatch
	if n := testing.AllocsPerRun(100, func() { sink = oneWrite("a", rec, nil) }); n != 1 {
		t.Errorf("oneWrite allocates %v times, want 1", n)
	}
	if !sink.single() || sink.ids[0] != "a" || sink.recs[0].Interface() != rec.Interface() || sink.clear(0) != nil {
		t.Errorf("oneWrite's batch is %+v", sink)
	}
	st := &schemaState{}
	if n := testing.AllocsPerRun(100, func() { _, _ = st.clearMask(nil) }); n != 0 {
		t.Errorf("clearMask without options allocates %v times, want 0", n)
	}
}
