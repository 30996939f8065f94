package strata

// BuildDate and BuildEnv are set at link time, for example:
//
//	go build -ldflags "-X 'github.com/AndrewDonelson/strata/strata.BuildDate=2026.11.25-1200' \
//	                   -X 'github.com/AndrewDonelson/strata/strata.BuildEnv=prod'"
var (
	BuildDate = "0000.00.00-0000"
	BuildEnv  = "dev"
)

// Version returns "BuildDate-BuildEnv", e.g. "2026.11.25-1200-prod".
func Version() string { return BuildDate + "-" + BuildEnv }
