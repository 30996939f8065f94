// Command summarize turns the output of the l1bench benchmarks (any number
// of -count runs, in any order) into a markdown table of medians, with
// every cache's ratio to otter in the same workload.
//
//	go test -run '^$' -bench . -count 11 ./l1bench | go run ./l1bench/summarize
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type key struct{ workload, cache string }

type samples struct{ ns, cpu, allocs []float64 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	data := map[key]*samples{}
	var workloads, caches []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // drop the GOMAXPROCS suffix
		}
		w, c, ok := strings.Cut(name, "/")
		if !ok {
			continue
		}
		k := key{w, c}
		s := data[k]
		if s == nil {
			s = &samples{}
			data[k] = s
			if !slices.Contains(workloads, w) {
				workloads = append(workloads, w)
			}
			if !slices.Contains(caches, c) {
				caches = append(caches, c)
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "cpu-ns/op":
				s.cpu = append(s.cpu, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	for _, w := range workloads {
		ref := data[key{w, "otter"}]
		fmt.Printf("\n### %s\n\n| cache | runs | ns/op (median) | vs otter | cpu-ns/op (median) | vs otter | allocs/op |\n|---|---|---|---|---|---|---|\n", w)
		for _, c := range caches {
			s := data[key{w, c}]
			if s == nil {
				continue
			}
			ns, cpu := median(s.ns), median(s.cpu)
			rns, rcpu := "", ""
			if ref != nil && median(ref.ns) > 0 {
				rns = fmt.Sprintf("%.2f×", ns/median(ref.ns))
			}
			if ref != nil && median(ref.cpu) > 0 {
				rcpu = fmt.Sprintf("%.2f×", cpu/median(ref.cpu))
			}
			fmt.Printf("| %s | %d | %.1f | %s | %.1f | %s | %.0f |\n", c, len(s.ns), ns, rns, cpu, rcpu, median(s.allocs))
		}
	}
}
