package integration_test

import (
	"os"
	"testing"

	"github.com/AndrewDonelson/strata/integration/chaos"
	"github.com/AndrewDonelson/strata/integration/harness"
)

func TestMain(m *testing.M) {
	if chaos.IsChild() { // a writer instance of the fault suite, in its own process
		os.Exit(chaos.ChildMain())
	}
	if runJournalChild() { // the writer TestJournalKeepsAcknowledgedSetsAcrossSIGKILL kills
		return
	}
	os.Exit(harness.Main(m))
}
