package strata

import "time"

// WriteBehindBacklog is one write-behind schema's records not yet written
// to PostgreSQL.
type WriteBehindBacklog struct {
	Schema string
	// Depth is the number of pending records (ids).
	Depth int
	// Oldest is how long the oldest pending id has been dirty; 0 when
	// none is.
	Oldest time.Duration
}

// WriteBehindBacklog returns the backlog of every schema that has
// write-behind records, by schema name: what a metrics exporter
// shows as the write-behind depth and oldest age. It locks each schema's
// dirty set briefly; call it at scrape time, not per request.
func (ds *DataStore) WriteBehindBacklog() []WriteBehindBacklog {
	var out []WriteBehindBacklog
	now := time.Now()
	for _, st := range ds.writeBehindSchemas() {
		depth, oldest := st.truth.backlog(st, now)
		out = append(out, WriteBehindBacklog{Schema: st.Name, Depth: depth, Oldest: oldest})
	}
	return out
}
