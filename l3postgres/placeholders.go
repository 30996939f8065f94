package l3postgres

import (
	"fmt"
	"strings"
)

// maxParams is the most parameters one PostgreSQL statement can carry.
const maxParams = 65535

// Placeholders scans a program-written SQL condition the way PostgreSQL's
// lexer does and returns the highest $n placeholder in it (0 when there is
// none) and whether it has a '?' outside string literals, quoted
// identifiers, comments and dollar-quoted strings. A $n inside any of those
// is text, not a placeholder, and a '$' inside an identifier (a$1) is part
// of the name. It returns an error wrapping [ErrInvalidQuery] for an
// unterminated literal, identifier or comment, and for a placeholder number
// PostgreSQL cannot have.
func Placeholders(cond string) (highest int, question bool, err error) {
	s := cond
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			escapes := i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && (i == 1 || !identByte(s[i-2]))
			end, ok := skipQuoted(s, i, '\'', escapes)
			if !ok {
				return 0, false, fmt.Errorf("%w: unterminated string literal in %q", ErrInvalidQuery, cond)
			}
			i = end
		case c == '"':
			end, ok := skipQuoted(s, i, '"', false)
			if !ok {
				return 0, false, fmt.Errorf("%w: unterminated quoted identifier in %q", ErrInvalidQuery, cond)
			}
			i = end
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
				i += nl + 1
			} else {
				i = len(s)
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end, ok := skipBlockComment(s, i)
			if !ok {
				return 0, false, fmt.Errorf("%w: unterminated /* comment in %q", ErrInvalidQuery, cond)
			}
			i = end
		case isLetter(c) || c == '_':
			// A whole identifier, '$' included: a$1 is a name.
			for i < len(s) && identByte(s[i]) {
				i++
			}
		case isDigit(c):
			for i < len(s) && (isLetter(s[i]) || isDigit(s[i]) || s[i] == '_' || s[i] == '.') {
				i++
			}
		case c == '$' && i+1 < len(s) && isDigit(s[i+1]):
			j, n := i+1, 0
			for j < len(s) && isDigit(s[j]) {
				if n <= maxParams {
					n = n*10 + int(s[j]-'0')
				}
				j++
			}
			if n == 0 || n > maxParams {
				return 0, false, fmt.Errorf("%w: placeholder %s in %q is out of range ($1 to $%d)", ErrInvalidQuery, s[i:j], cond, maxParams)
			}
			highest = max(highest, n)
			i = j
		case c == '$':
			if tag, ok := dollarTag(s, i); ok {
				end := strings.Index(s[i+len(tag):], tag)
				if end < 0 {
					return 0, false, fmt.Errorf("%w: unterminated dollar-quoted string %s in %q", ErrInvalidQuery, tag, cond)
				}
				i += len(tag) + end + len(tag)
			} else {
				i++
			}
		case c == '?':
			question = true
			i++
		default:
			i++
		}
	}
	return highest, question, nil
}

// CheckArgs reports, as an error wrapping [ErrInvalidQuery], a condition
// whose highest $n placeholder (see [Placeholders]) is not the number of
// arguments given for it. Every argument must have its placeholder and
// every placeholder its argument: a placeholder without one would
// otherwise take a value the package appends after them (a LIMIT).
func CheckArgs(cond string, nargs int) error {
	highest, question, err := Placeholders(cond)
	if err != nil {
		return err
	}
	if highest == nargs {
		return nil
	}
	msg := fmt.Sprintf("%s: the condition %q has placeholders up to $%d but %d argument(s) were given", ErrInvalidQuery, cond, highest, nargs)
	if highest == 0 {
		msg = fmt.Sprintf("%s: the condition %q has no $n placeholder but %d argument(s) were given", ErrInvalidQuery, cond, nargs)
	}
	if question {
		msg += "; placeholders are written $1, $2, …, not ?"
	}
	return &queryError{msg: msg}
}

// queryError is an [ErrInvalidQuery] with its own message.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }
func (e *queryError) Unwrap() error { return ErrInvalidQuery }

// skipQuoted returns the index just past the literal or quoted identifier
// opening at s[i] (a doubled quote stands for one, and with escapes a
// backslash escapes the next byte).
func skipQuoted(s string, i int, quote byte, escapes bool) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if escapes {
				j++
			}
		case quote:
			if j+1 < len(s) && s[j+1] == quote {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return 0, false
}

// skipBlockComment returns the index just past the /* comment opening at
// s[i]; PostgreSQL's block comments nest.
func skipBlockComment(s string, i int) (int, bool) {
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j += 2
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, true
			}
		default:
			j++
		}
	}
	return 0, false
}

// dollarTag returns the opening tag ($$ or $name$) of a dollar-quoted
// string starting at s[i], if one does.
func dollarTag(s string, i int) (string, bool) {
	j := i + 1
	if j < len(s) && s[j] == '$' {
		return "$$", true
	}
	if j >= len(s) || !(isLetter(s[j]) || s[j] == '_') {
		return "", false
	}
	for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || s[j] == '_') {
		j++
	}
	if j < len(s) && s[j] == '$' {
		return s[i : j+1], true
	}
	return "", false
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80 }

// identByte reports whether c continues an identifier or a number.
func identByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '$' }
