package main

import (
	"math/rand/v2"
	"time"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

// sampler keeps a bounded uniform sample of latencies (reservoir sampling)
// and the exact count, so that millions of L1 reads cost a fixed amount of
// memory.
type sampler struct {
	n    int
	keep []float64
	rng  *rand.Rand
}

const sampleCap = 200_000

func newSampler() *sampler { return &sampler{rng: rand.New(rand.NewPCG(1, 2))} }

func (s *sampler) add(d time.Duration) {
	s.n++
	if len(s.keep) < sampleCap {
		s.keep = append(s.keep, float64(d))
		return
	}
	if j := s.rng.IntN(s.n); j < sampleCap {
		s.keep[j] = float64(d)
	}
}

func (s *sampler) p(q float64) float64 { return benchkit.Percentile(s.keep, q) }
