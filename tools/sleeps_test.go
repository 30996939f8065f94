package tools_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// longSleep matches a fixed sleep of more than one second in a test: a
// time.Sleep (directly or until a time N seconds or minutes away) of 2 s
// or more, a minute or more, or time.Second times a factor of 2 or more.
var longSleep = regexp.MustCompile(`time\.Sleep\((?:time\.Until\([^)]*?)?(?:(\d+)\s*\*\s*time\.Second|(\d+\s*\*\s*)?time\.(Minute|Hour))`)

// TestNoFixedSleepOverOneSecond: tests wait for conditions by polling with
// a deadline; a fixed sleep longer than a second makes the suite slow on a
// fast machine and still flaky on a slow one. It scans every _test.go file
// of the repository (TestWriteBehindSurvivesPostgresOutage slept 30 s).
func TestNoFixedSleepOverOneSecond(t *testing.T) {
	t.Parallel()
	var found []string
	err := walkRepoGoFiles(t, func(path string, data []byte) {
		if !strings.HasSuffix(path, "_test.go") || path == filepath.Join("..", "tools", "sleeps_test.go") { // this file quotes them
			return
		}
		for i, line := range strings.Split(string(data), "\n") {
			if bad(line) {
				found = append(found, path+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("fixed sleep over one second (poll for the condition with a deadline instead): %s", f)
	}
}

func bad(line string) bool {
	for _, m := range longSleep.FindAllStringSubmatch(line, -1) {
		if m[3] != "" { // minutes or hours
			return true
		}
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 2 {
			return true
		}
	}
	return false
}

func TestLongSleepPattern(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]bool{
		"time.Sleep(time.Until(stoppedAt.Add(30 * time.Second)))": true,
		"time.Sleep(2 * time.Second)":                             true,
		"time.Sleep(time.Minute)":                                 true,
		"time.Sleep(time.Second)":                                 false,
		"time.Sleep(1 * time.Second)":                             false,
		"time.Sleep(500 * time.Millisecond)":                      false,
		"time.Sleep(time.Until(deadline))":                        false,
		"case <-time.After(30 * time.Second):":                    false,
	} {
		if got := bad(line); got != want {
			t.Errorf("bad(%q) = %v, want %v", line, got, want)
		}
	}
}
