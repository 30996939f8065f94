package integration_test

import (
	"os"
	"testing"

	"github.com/AndrewDonelson/strata/integration/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
