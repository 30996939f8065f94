package strata_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every DataStore the tests open is closed, so no goroutine may outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
