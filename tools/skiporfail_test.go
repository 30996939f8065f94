package tools_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readsRequireServers matches Go code that names the skip-or-fail switch
// itself: the variable's name as a string literal, or a Getenv of the
// kit's constant for it.
var readsRequireServers = regexp.MustCompile(`"STRATA_REQUIRE_SERVERS"|Getenv\((testkit\.)?EnvRequireServers\)`)

// TestSkipOrFailIsDecidedOnlyByTestkit: whether a missing server skips a
// test or fails it (STRATA_REQUIRE_SERVERS=1) is decided in one place,
// testkit/env.go; every other test asks testkit (testkit.Required,
// Unavailable, Need, Resolve), so the contract cannot drift between
// modules again (issue 12: it was written seven times).
func TestSkipOrFailIsDecidedOnlyByTestkit(t *testing.T) {
	t.Parallel()
	home := filepath.Join("..", "testkit", "env.go")
	var found []string
	err := walkRepoGoFiles(t, func(path string, data []byte) {
		if path == home || path == filepath.Join("..", "tools", "skiporfail_test.go") { // this file quotes it
			return
		}
		for i, line := range strings.Split(string(data), "\n") {
			if code, _, _ := strings.Cut(line, "//"); readsRequireServers.MatchString(code) {
				found = append(found, path+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("reads STRATA_REQUIRE_SERVERS itself (ask testkit: Required, Unavailable, Need or Resolve): %s", f)
	}
}
