package main

import (
	"context"
	"fmt"
)

// loadBatch is how many records one SetMany call writes.
const loadBatch = 1000

// loadWithSetMany writes the records in SetMany calls of loadBatch records:
// each is one COPY-based upsert in PostgreSQL, then one Redis DEL of the
// batch's keys and one invalidation message (writes invalidate the caches;
// reads fill them).
func (d *demo) loadWithSetMany(ctx context.Context, bar *progress) (string, error) {
	calls := 0
	for lo := 0; lo < d.o.records; lo += loadBatch {
		hi := min(lo+loadBatch, d.o.records)
		pairs := make(map[string]any, hi-lo)
		for i := lo; i < hi; i++ {
			pairs[playerID(i)] = newPlayer(i)
		}
		if err := d.writer.SetMany(ctx, d.schema, pairs); err != nil {
			return "", err
		}
		calls++
		bar.add(hi - lo)
	}
	return fmt.Sprintf("%d SetMany calls of up to %s records (one COPY upsert, then one Redis DEL and one invalidation each)", calls, thousands(loadBatch)), nil
}
