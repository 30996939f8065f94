module github.com/AndrewDonelson/strata/l2redis

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/redis/go-redis/v9 v9.23.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/AndrewDonelson/strata/testkit v0.1.0
	github.com/AndrewDonelson/strata/testkit/rediskit v0.1.0
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/AndrewDonelson/strata/testkit => ../testkit

replace github.com/AndrewDonelson/strata/testkit/rediskit => ../testkit/rediskit
