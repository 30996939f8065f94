package strata_test

import (
	"fmt"
	"strings"
	"sync"
)

// logLine is one line a captureLogger received.
type logLine struct {
	level, msg string
	kv         map[string]string
}

func (l logLine) String() string { return fmt.Sprintf("%s %q %v", l.level, l.msg, l.kv) }

// captureLogger is a strata.Logger that keeps every line, safe for
// concurrent use.
type captureLogger struct {
	mu    sync.Mutex
	lines []logLine
}

func (c *captureLogger) add(level, msg string, kv []any) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
	}
	c.mu.Lock()
	c.lines = append(c.lines, logLine{level, msg, m})
	c.mu.Unlock()
}

func (c *captureLogger) Debug(msg string, kv ...any) { c.add("DEBUG", msg, kv) }
func (c *captureLogger) Info(msg string, kv ...any)  { c.add("INFO", msg, kv) }
func (c *captureLogger) Warn(msg string, kv ...any)  { c.add("WARN", msg, kv) }
func (c *captureLogger) Error(msg string, kv ...any) { c.add("ERROR", msg, kv) }

// find returns the lines at level whose message or values contain every
// one of the words.
func (c *captureLogger) find(level string, words ...string) []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []logLine
	for _, l := range c.lines {
		if l.level != level {
			continue
		}
		text := l.String()
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// all returns every line so far, for failure messages.
func (c *captureLogger) all() []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logLine(nil), c.lines...)
}
