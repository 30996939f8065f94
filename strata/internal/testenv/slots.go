package testenv

import (
	"testing"

	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// FeedSlot returns a fresh name for a test's change-feed slot and
// publication and drops both when the test ends (waiting while the last
// consumer disconnects).
func FeedSlot(t testing.TB) string {
	t.Helper()
	return pgkit.Slot(t, PostgresDSN(t))
}

// DropLeakedSlots drops the inactive test slots, and the publications,
// that killed test processes left behind (never a running test's). It does
// nothing without a DSN.
func DropLeakedSlots(dsn string) (int, error) { return pgkit.DropLeakedSlots(dsn) }
