package model

import (
	"strings"
	"unicode"
)

// SnakeCase turns a Go identifier into a snake_case name: "CreatedAt" ->
// "created_at", "UserID" -> "user_id", "APIKey" -> "api_key".
func SnakeCase(s string) string {
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

// ValidName reports whether s can name a schema, table, key prefix or
// column: 1 to 63 ASCII letters, digits and underscores, not starting with a
// digit (PostgreSQL's identifier length limit, and safe inside Redis keys).
// The Redis key layout relies on it: a prefix holds neither ':' nor
// l2redis.ReservedMark, so record keys never meet Strata's own key spaces
// (see l2redis.KeyRoot).
func ValidName(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}
