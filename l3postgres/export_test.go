package l3postgres

// BuildQuery exposes the query builder to the external tests.
func (t *Table) BuildQuery(q Query) (string, []any, error) {
	sql, _, args, _, err := t.buildQuery(q)
	return sql, args, err
}

// Statements exposes the precomputed statements to the external tests.
func (t *Table) Statements() map[string]string {
	return map[string]string{
		"upsert":  t.upsert,
		"getByID": t.getByID,
		"getMany": t.getMany,
		"exists":  t.exists,
		"delete":  t.delete,
		"merge":   t.stageMerge,
		"move":    t.moveKey,
	}
}

// MapErr exposes the error mapping to the external tests.
var MapErr = mapErr

// MaxUpsertGroups exposes the bound of the group table.
const MaxUpsertGroups = maxUpsertGroups

// UpsertGroups returns how many upsert groups db remembers.
func (db *DB) UpsertGroups() int { return db.groups.len() }

// QueuedUpserts returns how many UpsertGrouped calls of t's table wait in
// a queue.
func (t *Table) QueuedUpserts() int {
	t.db.groups.mu.Lock()
	defer t.db.groups.mu.Unlock()
	n := 0
	for k, g := range t.db.groups.m {
		if k.tbl == t.tableSQL {
			g.mu.Lock()
			n += len(g.queue)
			g.mu.Unlock()
		}
	}
	return n
}

// MaxInFlight exposes how many statements of a group run at once.
const MaxInFlight = maxInFlight
