// Package l1bench compares l1mem with peer caches (otter v2, ristretto v2,
// hashicorp golang-lru v2) and a plain 256-shard mutex LRU, in the same run.
//
// It lives in the tools module so the peers never enter l1mem's go.mod.
//
//	go test -run '^$' -bench . -benchtime 200ms -count 11 ./l1bench   # speed
//	L1BENCH_REPORT=1 go test -run 'HitRatio|BytesPerEntry' -v ./l1bench # hit ratio, memory
package l1bench
