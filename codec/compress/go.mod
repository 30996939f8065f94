module github.com/AndrewDonelson/strata/codec/compress

go 1.25

require (
	github.com/AndrewDonelson/strata/codec v0.1.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/klauspost/compress v1.20.1
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/AndrewDonelson/strata/codec => ../../codec
