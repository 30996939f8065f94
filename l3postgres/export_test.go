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
