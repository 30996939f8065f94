module github.com/AndrewDonelson/strata/tools

go 1.24.0

require (
	github.com/AndrewDonelson/strata/l1mem v0.0.0
	github.com/dgraph-io/ristretto/v2 v2.4.2
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/maypok86/otter/v2 v2.4.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	golang.org/x/sys v0.36.0 // indirect
)

replace github.com/AndrewDonelson/strata/l1mem => ../l1mem
