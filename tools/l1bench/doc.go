// Package l1bench compares l1mem with peer caches (otter v2, ristretto v2,
// hashicorp golang-lru v2) and a plain 256-shard mutex LRU, in the same
// run, on a full bounded cache.
//
// The workload: each cache holds about 100,000 entries (l1mem: 256 shards
// of MaxEntries 390; the others: a total size of 100,000) and is filled
// with the 100,000 hottest keys of a Zipf(1.01) distribution over 1M
// string keys; values are a small struct ([Value]). Get hits then walk a
// pre-generated Zipf trace of the keys the cache still holds after the
// fill (checked with Has), from one goroutine and from RunParallel's; the
// 90/10 read/write mix and Sets walk a Zipf trace over all 1M keys.
//
// It lives in the tools module so the peers never enter l1mem's go.mod.
// Every benchmark reports ns/op and, because this runs on shared 2-core
// machines, cpu-ns/op (process CPU time per operation, summed over the
// goroutines), which other processes disturb less. Speed, as medians of
// interleaved runs with ratios to otter:
//
//	go test -c -o /tmp/l1bench.test ./l1bench
//	for i in $(seq 11); do /tmp/l1bench.test -test.run '^$' -test.bench '/(l1mem|otter)' -test.benchtime 200ms; done > /tmp/l1bench.txt
//	go run ./l1bench/summarize < /tmp/l1bench.txt
//
// The same comparison in short interleaved bursts, with per-thread CPU
// time beside wall time and each burst's ratio to otter (medians and
// interquartile ranges; on a loaded machine, run it several times and
// compare the medians across runs):
//
//	L1BENCH_REPORT=1 L1BENCH_ROUNDS=101 L1BENCH_BURST_MS=5 go test -count=1 -run SameRun -v ./l1bench
//
// Profiles of the parallel reads (CPU, and mutex and block contention):
//
//	/tmp/l1bench.test -test.run '^$' -test.bench 'GetHitParallel/l1mem-lru' -test.benchtime 3s \
//		-test.cpuprofile cpu.out -test.mutexprofile mu.out -test.blockprofile blk.out
//	go tool pprof -list 'shard.*find' /tmp/l1bench.test cpu.out
//
// What they showed (issue 13): no l1mem mutex or block delay at all
// (readers never wait: the read lock has no waiting reader path on a hit,
// and drains use TryLock). 88 % of Get's own samples sit on two loads, the
// shard index slot and the entry's key (index.go find), and memeqbody on
// the key's bytes adds 16 % of all samples: a hit is three dependent cache
// misses, as in otter. What parallel reads add is the policy: 40.7 % of
// LRU Gets (TinyLFU: 17.7 %) were recorded in a read ring, and a drain
// replaying an LRU hit wrote up to five queue nodes and the queue head,
// lines that the other processor's drains of the same shard fetched back.
// So LRU now marks reads in the entry (CLOCK second chance: a load of the
// line the hit fetched anyway, a store once per sweep) and records none;
// TinyLFU skips re-reads within 2*capacity events and records 7.7 %.
// Afterwards (perf annotate, TinyLFU 90/10) 87 % of Get's own samples and
// 91 % of put's sit on the index-slot and entry-key loads, memeqbody on
// the key's bytes takes 14 % of all samples, and the read lock, the
// drains and the sketch together about 10 %: what is left against otter
// is those three misses (and the read lock's line, which writers write),
// not waiting or the policy.
//
// Hit ratio (2M requests, capacity 10k and 100k) and bytes per entry (100k
// entries with a TTL):
//
//	L1BENCH_REPORT=1 go test -count=1 -run 'HitRatio|BytesPerEntry' -v ./l1bench
package l1bench
