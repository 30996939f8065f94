package l3postgres_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres"
)

func TestPlaceholdersScanner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cond     string
		highest  int
		question bool
		bad      bool
	}{
		{cond: "", highest: 0},
		{cond: "level > $1", highest: 1},
		{cond: "a > $1 AND a < $2", highest: 2},
		{cond: "a = $2 OR b = $1", highest: 2},
		{cond: "a = $10", highest: 10},
		{cond: "a=$1||$3", highest: 3},
		{cond: "name = 'costs $5' AND level > $1", highest: 1},
		{cond: "name = 'it''s $9' AND level > $1", highest: 1},
		{cond: `name = E'it\'s $9' AND level > $1`, highest: 1},
		{cond: `name = e'a\\' AND level > $2`, highest: 2},
		{cond: `name = 'a\' AND b = '$3'`, highest: 0}, // standard strings: a backslash is a character
		{cond: `"col$3" = $1`, highest: 1},
		{cond: `"we""ird $4" = $1`, highest: 1},
		{cond: "a = $1 -- and $7\n AND b = $2", highest: 2},
		{cond: "a = $1 -- trailing $3", highest: 1},
		{cond: "a = $1 /* $5 /* nested $6 */ still $7 */ AND b = $2", highest: 2},
		{cond: "body = $$ $3 $$ AND a = $1", highest: 1},
		{cond: "body = $tag$ $3 $x$ $tag$ AND a = $1", highest: 1},
		{cond: "a$1 = $2", highest: 2}, // a$1 is an identifier
		{cond: "tags ? 'x'", highest: 0, question: true},
		{cond: "a = ? AND b = ?", highest: 0, question: true},
		{cond: "name = '?' AND a = $1", highest: 1},
		{cond: "3.5e1 < a", highest: 0},
		{cond: "a = $0", bad: true},
		{cond: "a = $65536", bad: true},
		{cond: "a = $99999999999999999999", bad: true},
		{cond: "a = 'open", bad: true},
		{cond: `a = "open`, bad: true},
		{cond: "a = $1 /* open", bad: true},
		{cond: "a = $q$ open", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			highest, question, err := l3postgres.Placeholders(tt.cond)
			if tt.bad {
				if !errors.Is(err, l3postgres.ErrInvalidQuery) {
					t.Fatalf("Placeholders(%q) = %d, %v, %v; want ErrInvalidQuery", tt.cond, highest, question, err)
				}
				return
			}
			if err != nil || highest != tt.highest || question != tt.question {
				t.Fatalf("Placeholders(%q) = %d, %v, %v; want %d, %v, nil", tt.cond, highest, question, err, tt.highest, tt.question)
			}
		})
	}
}

func TestCheckArgsNamesBothCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cond  string
		nargs int
		want  []string // substrings of the message; nil means no error
	}{
		{cond: "a > $1 AND a < $2", nargs: 2},
		{cond: "", nargs: 0},
		{cond: "tags ? 'x'", nargs: 0}, // ? as the JSONB operator is fine
		{cond: "a > $1 AND a < $2", nargs: 1, want: []string{"up to $2", "1 argument"}},
		{cond: "a > $1", nargs: 3, want: []string{"up to $1", "3 argument"}},
		{cond: "", nargs: 1, want: []string{"no $n placeholder", "1 argument"}},
		{cond: "a = ? AND b = ?", nargs: 2, want: []string{"no $n placeholder", "2 argument", "written $1, $2"}},
		{cond: "a = $1 AND b = ?", nargs: 2, want: []string{"up to $1", "2 argument", "not ?"}},
	}
	for _, tt := range tests {
		err := l3postgres.CheckArgs(tt.cond, tt.nargs)
		if tt.want == nil {
			if err != nil {
				t.Errorf("CheckArgs(%q, %d) = %v, want nil", tt.cond, tt.nargs, err)
			}
			continue
		}
		if !errors.Is(err, l3postgres.ErrInvalidQuery) {
			t.Errorf("CheckArgs(%q, %d) = %v, want ErrInvalidQuery", tt.cond, tt.nargs, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CheckArgs(%q, %d) = %q, want it to mention %q", tt.cond, tt.nargs, err, w)
			}
		}
	}
}
