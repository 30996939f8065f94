module github.com/AndrewDonelson/strata/tools

go 1.26.0

require (
	github.com/AndrewDonelson/strata/codec v0.1.0
	github.com/AndrewDonelson/strata/codec/compress v0.1.0
	github.com/AndrewDonelson/strata/l1mem v0.1.0
	github.com/AndrewDonelson/strata/strata v0.1.0
	github.com/AndrewDonelson/strata/strata/otel v0.1.0
	github.com/AndrewDonelson/strata/strata/prom v0.1.0
	github.com/dgraph-io/ristretto/v2 v2.4.2
	github.com/exaring/otelpgx v0.13.0
	github.com/go-redis/cache/v9 v9.0.0
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/jackc/pgx/v5 v5.12.0
	github.com/magiconair/properties v1.8.0
	github.com/maypok86/otter/v2 v2.4.0
	github.com/pingcap/go-ycsb v1.0.3
	github.com/prometheus/client_golang v1.25.0
	github.com/redis/go-redis/extra/redisotel/v9 v9.23.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/viccon/sturdyc v1.1.5
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	golang.org/x/mod v0.43.0
	gonum.org/v1/plot v0.17.0
)

require (
	codeberg.org/go-fonts/liberation v0.5.0 // indirect
	codeberg.org/go-latex/latex v0.2.0 // indirect
	codeberg.org/go-pdf/fpdf v0.11.1 // indirect
	git.sr.ht/~sbinet/gg v0.7.0 // indirect
	github.com/ajstarks/svgo v0.0.0-20211024235047-1546f124cd8b // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/golang/freetype v0.0.0-20170609003504-e2365dfdc4a0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/redis/go-redis/extra/rediscmd/v9 v9.23.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	golang.org/x/image v0.30.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

require (
	github.com/AndrewDonelson/strata/l2redis v0.1.0
	github.com/AndrewDonelson/strata/l3postgres v0.1.0
	github.com/AndrewDonelson/strata/migrate v0.1.0 // indirect
	github.com/AndrewDonelson/strata/testkit v0.1.0
	github.com/AndrewDonelson/strata/testkit/rediskit v0.1.0
	github.com/HdrHistogram/hdrhistogram-go v1.1.2 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/go-redis/redis/v9 v9.0.0-rc.1 // indirect
	github.com/jackc/pgio v1.0.0 // indirect
	github.com/jackc/pglogrepl v0.0.0-20251213150135-2e8d0df862c1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/lib/pq v1.10.9 // indirect
	github.com/mattn/go-runewidth v0.0.9 // indirect
	github.com/olekukonko/tablewriter v0.0.5 // indirect
	github.com/pingcap/errors v0.11.5-0.20211224045212-9687c2b0f87c // indirect
	github.com/vmihailenco/go-tinylfu v0.2.2 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace (
	github.com/AndrewDonelson/strata/codec => ../codec
	github.com/AndrewDonelson/strata/l1mem => ../l1mem
	github.com/AndrewDonelson/strata/l2redis => ../l2redis
	github.com/AndrewDonelson/strata/l3postgres => ../l3postgres
	github.com/AndrewDonelson/strata/migrate => ../migrate
	github.com/AndrewDonelson/strata/strata => ../strata
	github.com/AndrewDonelson/strata/strata/otel => ../strata/otel
	github.com/AndrewDonelson/strata/strata/prom => ../strata/prom
)

replace github.com/AndrewDonelson/strata/testkit => ../testkit

replace github.com/AndrewDonelson/strata/testkit/rediskit => ../testkit/rediskit

replace github.com/AndrewDonelson/strata/codec/compress => ../codec/compress
