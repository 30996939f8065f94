module github.com/AndrewDonelson/strata/strata

go 1.24

require (
	github.com/AndrewDonelson/strata/codec v0.0.0-00010101000000-000000000000
	github.com/AndrewDonelson/strata/l1mem v0.0.0-00010101000000-000000000000
)

require (
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace (
	github.com/AndrewDonelson/strata/codec => ../codec
	github.com/AndrewDonelson/strata/l1mem => ../l1mem
)
