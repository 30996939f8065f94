package migrate

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// File is one SQL migration file.
type File struct {
	Version  int64  // the leading number
	Name     string // the file name, e.g. 003_add_scores.sql
	Checksum string // hex SHA-256 of the content
	NoTx     bool   // first line is the NoTransactionDirective
	SQL      string
}

// NoTransactionDirective, as the first line of a file, runs it outside a
// transaction, for statements PostgreSQL refuses inside one (CREATE INDEX
// CONCURRENTLY, ALTER TYPE … ADD VALUE before PostgreSQL 12, VACUUM). The
// file is then split into statements that run one by one; if one fails,
// those before it stay applied and the file is not recorded, so such a
// file should hold one statement or only idempotent ones
// (… IF NOT EXISTS).
const NoTransactionDirective = "-- strata:no-transaction"

var fileName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.sql$`)

// ReadFiles reads the migration files at the root of fsys, in version
// order. Files whose name ends in .sql (any case) must be named
// NNN_description.sql, NNN being decimal digits and the description
// letters, digits, '_', '-' or '.'; anything else with that suffix, or
// two files with the same number, is an error wrapping [ErrBadFileName].
// Other files and directories are ignored.
func ReadFiles(fsys fs.FS) ([]File, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: reading migrations: %w", err)
	}
	var files []File
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name()), ".sql") {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("%w: %q is not NNN_description.sql", ErrBadFileName, e.Name())
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: version out of range", ErrBadFileName, e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("%w: %q and %q share version %d", ErrBadFileName, other, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrate: reading %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		files = append(files, File{
			Version:  v,
			Name:     e.Name(),
			Checksum: hex.EncodeToString(sum[:]),
			NoTx:     firstLine(string(body)) == NoTransactionDirective,
			SQL:      string(body),
		})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	return files, nil
}

func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			return line
		}
	}
	return ""
}

// splitStatements splits a SQL script on the semicolons that end
// statements, skipping those inside quotes, dollar-quoted bodies and
// comments. Empty statements are dropped.
func splitStatements(sql string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		if s := strings.TrimSpace(sql[start:end]); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
		start = end + 1
	}
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"':
			i = skipQuoted(sql, i, c)
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if nl := strings.IndexByte(sql[i:], '\n'); nl >= 0 {
				i += nl
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			if end := strings.Index(sql[i+2:], "*/"); end >= 0 {
				i += end + 3
			} else {
				i = len(sql)
			}
		case c == '$':
			if tag := dollarTag(sql[i:]); tag != "" {
				if end := strings.Index(sql[i+len(tag):], tag); end >= 0 {
					i += len(tag) + end + len(tag) - 1
				} else {
					i = len(sql)
				}
			}
		case c == ';':
			flush(i)
		}
	}
	if start < len(sql) {
		flush(len(sql))
	}
	return out
}

// skipQuoted returns the index of the quote closing the one at i
// (doubled quotes are escapes).
func skipQuoted(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j
		}
	}
	return len(sql)
}

var dollarTagPattern = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`)

func dollarTag(s string) string { return dollarTagPattern.FindString(s) }

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
