package main

import (
	"net/url"
	"strconv"
	"strings"
)

// indentWriter indents every line written to it by three spaces, so tables
// sit under their step's title.
type indentWriter struct{ b strings.Builder }

func (w *indentWriter) Write(p []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line != "" && line != "\n" {
			w.b.WriteString("   ")
		}
		w.b.WriteString(line)
	}
	return len(p), nil
}

func (w *indentWriter) String() string { return w.b.String() }

// thousands renders 12345 as "12,345".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// hostOf returns the host:port/database of a DSN, without credentials.
func hostOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "(configured)"
	}
	return u.Host + u.Path
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func pct(part, whole int) string {
	if whole == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}
