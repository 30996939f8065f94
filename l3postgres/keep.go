package l3postgres

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Keep is a column value for the upserts ([Table.Upsert],
// [Table.UpsertReturning], [Table.UpsertMany], [Table.UpsertManyReturning])
// that does not overwrite: a new row gets Value, and an existing row keeps
// what the column holds. A program that writes back a record it read
// without some of its columns (a write-only secret, a blob it did not load)
// passes those as Keep, so that the write does not erase them.
//
// Keep changes nothing for the key, the partition column and InsertOnly
// columns, which an update never sets anyway.
type Keep struct {
	// Value is what the column of a new row gets.
	Value any
}

// upsertStmts are the upsert statements for rows that keep one set of
// columns (see Keep).
type upsertStmts struct {
	upsert, upsertReturning         string // one row, from parameters
	merge, mergeReturning           string // every row of the staging table
	mergeWhere, mergeWhereReturning string // the staging rows whose keep column is $1
	conflictMany                    string // ON CONFLICT … RETURNING the key and the rest, after the rows (group.go)
}

// plainRow returns row with every Keep replaced by its Value, and the key of
// the statements that apply to it: "" when it keeps no column, else the
// positions of the updatable columns it keeps (",2,5"). row is not changed;
// without a Keep it is returned as it is.
func (s *tableSQL) plainRow(row []any) ([]any, string) {
	var (
		out []any
		key []byte
	)
	for i, v := range row {
		k, ok := v.(Keep)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]any(nil), row...)
		}
		out[i] = k.Value
		if s.updatable[i] {
			key = strconv.AppendInt(append(key, ','), int64(i), 10)
		}
	}
	if out == nil {
		return row, ""
	}
	return out, string(key)
}

// stmts returns the statements for rows whose keep key (from plainRow) is
// key, building them the first time. There is one set per combination of
// kept columns a program uses.
func (s *tableSQL) stmts(key string) *upsertStmts {
	if v, ok := s.variants.Load(key); ok {
		return v.(*upsertStmts)
	}
	kept := make([]bool, len(s.qcols))
	if key != "" {
		for _, p := range strings.Split(key[1:], ",") {
			i, _ := strconv.Atoi(p) // written by plainRow
			kept[i] = true
		}
	}
	params := make([]string, len(s.qcols))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	insert := "INSERT INTO " + s.qname + " (" + s.selectList + ") "
	values := insert + "VALUES (" + strings.Join(params, ", ") + ")"
	qstage := pgx.Identifier{s.stageName}.Sanitize()
	fromStage := insert + "SELECT " + s.selectList + " FROM " + qstage
	stageWhere := fromStage + " WHERE " + pgx.Identifier{s.stageKeep}.Sanitize() + " = $1"

	one, many := s.returning(false), s.returning(true)
	st := &upsertStmts{
		upsert:              values + s.onConflict(kept, ""),
		upsertReturning:     values + s.onConflict(kept, one),
		merge:               fromStage + s.onConflict(kept, ""),
		mergeReturning:      fromStage + s.onConflict(kept, many),
		mergeWhere:          stageWhere + s.onConflict(kept, ""),
		mergeWhereReturning: stageWhere + s.onConflict(kept, many),
		conflictMany:        s.onConflict(kept, many),
	}
	v, _ := s.variants.LoadOrStore(key, st)
	return v.(*upsertStmts)
}

// onConflict is the ON CONFLICT clause of an upsert that sets every
// updatable column not kept, followed by returning (a RETURNING list or "").
// When nothing is to be set the clause is DO NOTHING, except with RETURNING,
// which needs the existing row: then it updates the key to itself.
func (s *tableSQL) onConflict(kept []bool, returning string) string {
	var sets []string
	for i, q := range s.qcols {
		if s.updatable[i] && (kept == nil || !kept[i]) {
			sets = append(sets, q+" = EXCLUDED."+q)
		}
	}
	c := " ON CONFLICT (" + s.conflict + ") "
	switch {
	case len(sets) > 0:
		c += "DO UPDATE SET " + strings.Join(sets, ", ")
	case returning != "":
		c += "DO UPDATE SET " + s.qcols[s.pk] + " = EXCLUDED." + s.qcols[s.pk]
	default:
		c += "DO NOTHING"
	}
	return c + returning
}

// returning is the RETURNING list of the InsertOnly columns, preceded by the
// key when withKey and followed by the version column when there is one;
// "" when that list is empty.
func (s *tableSQL) returning(withKey bool) string {
	var cols []string
	if withKey {
		cols = append(cols, s.qcols[s.pk])
	}
	for _, i := range s.insertOnly {
		cols = append(cols, s.qcols[i])
	}
	if s.version != "" {
		cols = append(cols, s.version)
	}
	if len(cols) == 0 {
		return ""
	}
	return " RETURNING " + strings.Join(cols, ", ")
}
