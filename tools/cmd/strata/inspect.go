package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/l2redis"
)

const inspectLong = `Show one record as each tier holds it: the Redis key with its remaining
TTL and decoded value, beside the PostgreSQL row, field by field.

The command has no Go model, so it works on the raw key and row, named the
way the library names them: key strata:{prefix}:{ID} (prefix: the schema
name, or --key-prefix for a schema with RedisPolicy.KeyPrefix), table
SCHEMA (or --table for PostgresPolicy.TableName), row by the table's
primary key (or --id-column). Cached fields are matched to columns as the
library maps them: the Go field name in snake_case (UserID -> user_id).

A field marked '≠' differs between the tiers. That is expected for an
encrypted field (ciphertext in PostgreSQL, plaintext in the cache) and for
an omit_cache field (zero in the cache); any other difference means the
cached value is older than the row, which the library never leaves once
writes have stopped, unless the row was changed behind its back: then
"strata invalidate SCHEMA ID" repairs it. The values are decoded with
MessagePack, the library's default codec, or as JSON (Config.Codec =
codec.JSON{}).

A tier that is not configured is left out; --json prints both as one
JSON object.`

// inspectFlags are inspect's own flags.
type inspectFlags struct {
	table, keyPrefix, idColumn string
	json                       bool
}

func newInspect(o *options) *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect SCHEMA ID",
		Short: "Show a record's Redis key and TTL beside its PostgreSQL row",
		Long:  inspectLong,
		Example: `  strata inspect players p1
  strata inspect players p1 --table game_players --key-prefix pl
  strata inspect players p1 --json | jq .redis.ttl_ms`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return inspect(cmd, o, f, a[0], a[1])
		},
	}
	cmd.Flags().StringVar(&f.table, "table", "", "the PostgreSQL table (default: SCHEMA)")
	cmd.Flags().StringVar(&f.keyPrefix, "key-prefix", "", "the Redis key prefix (default: SCHEMA)")
	cmd.Flags().StringVar(&f.idColumn, "id-column", "", "the column that holds the id (default: the table's primary key)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON object")
	return cmd
}

// redisView is what Redis holds for the record.
type redisView struct {
	Key    string         `json:"key"`
	Found  bool           `json:"found"`
	TTLms  int64          `json:"ttl_ms,omitempty"` // -1: no expiry
	Codec  string         `json:"codec,omitempty"`
	Bytes  int            `json:"bytes,omitempty"`
	Value  map[string]any `json:"value,omitempty"`
	Raw    string         `json:"raw,omitempty"` // when it decodes as neither codec
	ttl    time.Duration
	hasTTL bool
}

// postgresView is what PostgreSQL holds for the record.
type postgresView struct {
	Table    string         `json:"table"`
	IDColumn string         `json:"id_column"`
	Found    bool           `json:"found"`
	Row      map[string]any `json:"row,omitempty"`
	// Version is the row version (the strata_ver column Migrate adds and
	// its trigger bumps on every write), shown apart from the fields: no
	// model holds it, so the cache has nothing to compare it with.
	Version json.Number `json:"row_version,omitempty"`
}

// rowVersionColumn is the column that holds a row's version; the library
// names it in strata/internal/model (VersionColumn).
const rowVersionColumn = "strata_ver"

func inspect(cmd *cobra.Command, o *options, f inspectFlags, schema, id string) error {
	if o.postgresDSN == "" && o.redisAddr == "" {
		return usageError{fmt.Errorf("no server to look in: give --postgres-dsn or --redis-addr (or set %s, %s)", envPostgresDSN, envRedisAddr)}
	}
	if f.table == "" {
		f.table = schema
	}
	if f.keyPrefix == "" {
		f.keyPrefix = schema
	}
	if strings.ContainsAny(f.keyPrefix, ":#") {
		return usageError{fmt.Errorf("key prefix %q: a prefix holds no ':' or '#'", f.keyPrefix)}
	}
	ctx, cancel := o.withTimeout(cmd.Context())
	defer cancel()
	var (
		rv *redisView
		pv *postgresView
	)
	if o.redisAddr != "" {
		v, err := inspectRedis(ctx, o, l2redis.Key(f.keyPrefix, id))
		if err != nil {
			return err
		}
		rv = &v
	}
	if o.postgresDSN != "" {
		v, err := inspectPostgres(ctx, o.postgresDSN, f.table, f.idColumn, id)
		if err != nil {
			return err
		}
		pv = &v
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Schema   string        `json:"schema"`
			ID       string        `json:"id"`
			Redis    *redisView    `json:"redis,omitempty"`
			Postgres *postgresView `json:"postgresql,omitempty"`
		}{schema, id, rv, pv})
	}
	printInspect(out, id, rv, pv)
	return nil
}

func inspectRedis(ctx context.Context, o *options, key string) (redisView, error) {
	v := redisView{Key: key}
	store, err := l2redis.Open(l2redis.Config{
		Addr: o.redisAddr, Password: o.redisPassword, DB: o.redisDB, MasterName: o.redisMasterName,
	}, nil)
	if err != nil {
		return v, usageError{fmt.Errorf("redis: %w", err)}
	}
	defer store.Close()
	data, err := store.Get(ctx, key)
	if errors.Is(err, l2redis.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("redis at %s: GET %s: %w", o.redisAddr, key, err)
	}
	v.Found, v.Bytes = true, len(data)
	ttl, err := store.TTL(ctx, key)
	switch {
	case errors.Is(err, l2redis.ErrNotFound): // expired between the two calls
		v.Found = false
		return v, nil
	case err != nil:
		return v, fmt.Errorf("redis at %s: TTL %s: %w", o.redisAddr, key, err)
	case ttl == l2redis.NoExpiry:
		v.TTLms = -1
	default:
		v.TTLms, v.ttl, v.hasTTL = ttl.Milliseconds(), ttl, true
	}
	v.Codec, v.Value, v.Raw = decodeCached(data)
	return v, nil
}

// decodeCached decodes a cached value with the codec that reads it:
// MessagePack (the default) or JSON. Neither: a quoted rendering of the
// bytes.
func decodeCached(data []byte) (string, map[string]any, string) {
	var m map[string]any
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&m) == nil {
			return codec.JSON{}.Name(), m, ""
		}
	}
	var v any
	if (codec.MsgPack{}).Unmarshal(data, &v) == nil {
		if mm, ok := v.(map[string]any); ok {
			return codec.MsgPack{}.Name(), mm, ""
		}
	}
	const max = 256
	raw := data
	if len(raw) > max {
		raw = raw[:max]
	}
	return "unknown", nil, fmt.Sprintf("%q", raw)
}

func inspectPostgres(ctx context.Context, dsn, table, idColumn, id string) (postgresView, error) {
	v := postgresView{Table: table, IDColumn: idColumn}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return v, usageError{fmt.Errorf("PostgreSQL DSN: %w", err)}
	}
	cfg.MaxConns, cfg.MinConns = 1, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return v, fmt.Errorf("PostgreSQL: %w", err)
	}
	defer pool.Close()
	ident := pgx.Identifier{table}.Sanitize()
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", ident).Scan(&exists); err != nil {
		return v, fmt.Errorf("PostgreSQL: %w", err)
	}
	if !exists {
		return v, fmt.Errorf("PostgreSQL has no table %s (has the application run Migrate? does the schema set another TableName: --table?)", table)
	}
	if v.IDColumn == "" {
		cols, err := primaryKey(ctx, pool, ident)
		if err != nil {
			return v, err
		}
		if len(cols) != 1 {
			return v, fmt.Errorf("table %s has %d primary key columns (%s): name the id column with --id-column", table, len(cols), strings.Join(cols, ", "))
		}
		v.IDColumn = cols[0]
	}
	var row []byte
	err = pool.QueryRow(ctx, "SELECT to_jsonb(t) FROM "+ident+" AS t WHERE "+pgx.Identifier{v.IDColumn}.Sanitize()+" = $1", id).Scan(&row)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("PostgreSQL: reading %s: %w", table, err)
	}
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if err := dec.Decode(&v.Row); err != nil {
		return v, fmt.Errorf("PostgreSQL: decoding the row of %s: %w", table, err)
	}
	if ver, ok := v.Row[rowVersionColumn].(json.Number); ok {
		v.Version = ver
		delete(v.Row, rowVersionColumn)
	}
	v.Found = true
	return v, nil
}

// primaryKey lists the primary key columns of a table.
func primaryKey(ctx context.Context, pool *pgxpool.Pool, ident string) ([]string, error) {
	rows, err := pool.Query(ctx, `
		SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = to_regclass($1) AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)`, ident)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: reading the primary key: %w", err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: reading the primary key: %w", err)
	}
	return cols, nil
}

// printInspect prints the two tiers' headers and then the fields side by
// side.
func printInspect(out io.Writer, id string, rv *redisView, pv *postgresView) {
	if rv != nil {
		switch {
		case !rv.Found:
			fmt.Fprintf(out, "redis       %s  not cached\n", rv.Key)
		case rv.TTLms < 0:
			fmt.Fprintf(out, "redis       %s  no TTL  %s, %d bytes\n", rv.Key, rv.Codec, rv.Bytes)
		default:
			fmt.Fprintf(out, "redis       %s  TTL %s  %s, %d bytes\n", rv.Key, rv.ttl.Round(100*time.Millisecond), rv.Codec, rv.Bytes)
		}
		if rv.Raw != "" {
			fmt.Fprintf(out, "            undecodable value: %s\n", rv.Raw)
		}
	}
	if pv != nil {
		state := "row"
		switch {
		case !pv.Found:
			state = "no row"
		case pv.Version != "":
			state = "row, version " + pv.Version.String()
		}
		fmt.Fprintf(out, "postgresql  table %s  %s = %q  %s\n", pv.Table, pv.IDColumn, id, state)
	}
	var cached, row map[string]any
	if rv != nil {
		cached = rv.Value
	}
	if pv != nil {
		row = pv.Row
	}
	lines := sideBySide(cached, row)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(out)
	var table bytes.Buffer
	w := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FIELD\tREDIS\tPOSTGRESQL\t")
	differ := false
	for _, l := range lines {
		mark := ""
		if l.differ {
			mark, differ = "≠", true
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", l.name, l.cached, l.row, mark)
	}
	w.Flush()
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		fmt.Fprint(out, strings.TrimRight(line, " \n")+strings.Repeat("\n", strings.Count(line, "\n")))
	}
	if differ {
		fmt.Fprintln(out, "\n≠: differs. Expected for encrypted fields (ciphertext in PostgreSQL) and omit_cache fields (zero in the cache); otherwise the cache is stale: strata invalidate repairs it.")
	}
}

// fieldLine is one line of the side-by-side view.
type fieldLine struct {
	name, cached, row string
	differ            bool
}

// sideBySide pairs the cached fields (Go names) with the row's columns
// (snake_case), in column order where the row has them.
func sideBySide(cached, row map[string]any) []fieldLine {
	byColumn := map[string]string{} // column -> cached field name
	for name := range cached {
		byColumn[snakeCase(name)] = name
	}
	var cols []string
	for c := range row {
		cols = append(cols, c)
	}
	for c := range byColumn {
		if _, ok := row[c]; !ok {
			cols = append(cols, c)
		}
	}
	slices.Sort(cols)
	const absent = "—"
	var out []fieldLine
	for _, c := range cols {
		l := fieldLine{name: c, cached: absent, row: absent}
		cv, inCache := cached[byColumn[c]]
		inCache = inCache && byColumn[c] != ""
		rv, inRow := row[c]
		if inCache {
			l.cached = render(cv)
		}
		if inRow {
			l.row = render(rv)
		}
		if cached != nil && row != nil {
			l.differ = !inCache || !inRow || !sameValue(cv, rv)
		}
		out = append(out, l)
	}
	return out
}

// render prints a value as compact JSON, times in RFC 3339 UTC.
func render(v any) string {
	if t, ok := asTime(v); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 60
	if s := string(b); len(s) > max {
		return s[:max-1] + "…"
	}
	return string(b)
}

// sameValue compares a cached value with a column's JSON value: as the
// same instant when both are times, else as JSON.
func sameValue(cached, row any) bool {
	if ct, ok := cached.(time.Time); ok {
		rt, ok := asTime(row)
		return ok && ct.Equal(rt)
	}
	return normalJSON(cached) == normalJSON(row)
}

// asTime reads a time: a time.Time (MessagePack), or a string in RFC 3339
// (PostgreSQL's JSON of a timestamptz, a JSON-coded cache value).
func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		if len(x) >= 20 && x[4] == '-' && x[10] == 'T' {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// normalJSON renders v as JSON with numbers and object keys normalised,
// so 3 and 3.0, and maps in any key order, compare equal.
func normalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return string(b)
	}
	b, _ = json.Marshal(x)
	return string(b)
}
