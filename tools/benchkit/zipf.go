package benchkit

import (
	"math/rand/v2"
)

// ZipfSkew is the exponent of the key streams used by the harness and the
// demo: a few very hot keys and a long tail, as in most caches' traffic.
const ZipfSkew = 1.01

// ZipfStream returns count ranks in [0, n) drawn from a Zipf distribution of
// exponent s (> 1), rank 0 being the most frequent. The same seed gives the
// same stream, so every subject of a workload sees identical keys.
func ZipfStream(seed uint64, s float64, n, count int) []int {
	if n <= 0 || count <= 0 {
		return nil
	}
	if n == 1 {
		return make([]int, count)
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), s, 1, uint64(n-1))
	out := make([]int, count)
	for i := range out {
		out[i] = int(z.Uint64())
	}
	return out
}
