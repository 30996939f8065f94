package main

import (
	"strings"
	"unicode"
)

// snakeCase turns a Go field name into the column the library gives it:
// "CreatedAt" -> "created_at", "UserID" -> "user_id", "APIKey" -> "api_key".
// It is the library's rule (strata/internal/model/naming.go), which keeps no exported
// form; TestSnakeCaseMatchesTheLibrary checks the two agree through a
// migrated table.
func snakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
