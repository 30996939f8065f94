package benchkit_test

import (
	"slices"
	"testing"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestZipfStream(t *testing.T) {
	t.Parallel()
	const n, count = 1000, 100_000
	a := benchkit.ZipfStream(7, benchkit.ZipfSkew, n, count)
	b := benchkit.ZipfStream(7, benchkit.ZipfSkew, n, count)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two different streams")
	}
	if c := benchkit.ZipfStream(8, benchkit.ZipfSkew, n, count); slices.Equal(a, c) {
		t.Fatal("two seeds gave the same stream")
	}
	freq := make([]int, n)
	for _, k := range a {
		if k < 0 || k >= n {
			t.Fatalf("rank %d outside [0, %d)", k, n)
		}
		freq[k]++
	}
	if freq[0] <= freq[1] || freq[1] <= freq[10] || freq[10] <= freq[500] {
		t.Errorf("frequencies do not fall with rank: f0=%d f1=%d f10=%d f500=%d", freq[0], freq[1], freq[10], freq[500])
	}
	// With s≈1 over 1000 ranks the top 1% of keys takes a large share.
	top := 0
	for _, f := range freq[:10] {
		top += f
	}
	if share := float64(top) / count; share < 0.3 {
		t.Errorf("top 10 ranks got %.2f of the draws, want a heavy head (>= 0.3)", share)
	}
}

func TestZipfStreamEdges(t *testing.T) {
	t.Parallel()
	if got := benchkit.ZipfStream(1, benchkit.ZipfSkew, 0, 10); got != nil {
		t.Errorf("n=0: got %v, want nil", got)
	}
	if got := benchkit.ZipfStream(1, benchkit.ZipfSkew, 10, 0); got != nil {
		t.Errorf("count=0: got %v, want nil", got)
	}
	if got := benchkit.ZipfStream(1, benchkit.ZipfSkew, 1, 3); !slices.Equal(got, []int{0, 0, 0}) {
		t.Errorf("n=1: got %v, want all zero", got)
	}
}
