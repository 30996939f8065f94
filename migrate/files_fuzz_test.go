package migrate_test

import (
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/migrate"
)

// FuzzSplitStatements checks that the splitter never panics, returns only
// trimmed non-empty statements, and agrees with a plain split on ';' when
// the script has no quotes, comments or dollar signs.
func FuzzSplitStatements(f *testing.F) {
	for _, seed := range []string{
		"SELECT 1; SELECT 2",
		"INSERT INTO t VALUES ('a;b'); -- c;\nSELECT \"x;y\"",
		"DO $$ BEGIN PERFORM 1; END $$; SELECT $1",
		"/* unterminated ; comment",
		"'unterminated; quote",
		"$tag$ body; $tag",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		got := migrate.SplitStatements(script)
		for _, s := range got {
			if s == "" || s != strings.TrimSpace(s) {
				t.Fatalf("statement %q is empty or untrimmed", s)
			}
		}
		if strings.ContainsAny(script, `'"$-/`) {
			return
		}
		var want []string
		for _, part := range strings.Split(script, ";") {
			if p := strings.TrimSpace(part); p != "" {
				want = append(want, p)
			}
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("split(%q) = %q, want %q", script, got, want)
		}
	})
}
