package strata

import "context"

// backendAsker returns how to ask PostgreSQL which of the server backends
// that ambiguous writes went to are still running (see ambiguous.go), or
// nil when this DataStore has no PostgreSQL pool of its own to ask (a
// white-box test's table): its doubts then wait out settleTimeout or
// Close.
func (ds *DataStore) backendAsker() func(ctx context.Context, backends []uint32) (map[uint32]bool, error) {
	if ds.l3 == nil {
		return nil
	}
	return ds.l3.BackendsAlive
}
