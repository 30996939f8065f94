module github.com/AndrewDonelson/strata/strata/otel

go 1.26.0

require (
	github.com/AndrewDonelson/strata/strata v0.1.0
	github.com/google/go-cmp v0.7.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/redis/go-redis/v9 v9.23.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/AndrewDonelson/strata/codec v0.1.0 // indirect
	github.com/AndrewDonelson/strata/l1mem v0.1.0 // indirect
	github.com/AndrewDonelson/strata/l2redis v0.1.0 // indirect
	github.com/AndrewDonelson/strata/l3postgres v0.1.0 // indirect
	github.com/AndrewDonelson/strata/migrate v0.1.0 // indirect
	github.com/AndrewDonelson/strata/testkit v0.1.0 // indirect
	github.com/AndrewDonelson/strata/testkit/rediskit v0.1.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgio v1.0.0 // indirect
	github.com/jackc/pglogrepl v0.0.0-20251213150135-2e8d0df862c1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace (
	github.com/AndrewDonelson/strata/codec => ../../codec
	github.com/AndrewDonelson/strata/l1mem => ../../l1mem
	github.com/AndrewDonelson/strata/l2redis => ../../l2redis
	github.com/AndrewDonelson/strata/l3postgres => ../../l3postgres
	github.com/AndrewDonelson/strata/migrate => ../../migrate
	github.com/AndrewDonelson/strata/strata => ../../strata
)

replace github.com/AndrewDonelson/strata/testkit => ../../testkit

replace github.com/AndrewDonelson/strata/testkit/rediskit => ../../testkit/rediskit
