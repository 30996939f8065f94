package benchkit_test

import (
	"testing"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{7}, 7},
		{"odd unsorted", []float64{9, 1, 5}, 5},
		{"even takes the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"outlier does not move it", []float64{10, 11, 12, 1e9, 10}, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tt.in...)
			if got := benchkit.Median(tt.in); got != tt.want {
				t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatalf("Median modified its input: %v", tt.in)
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i) // 100 .. 1, unsorted
	}
	tests := []struct {
		name string
		in   []float64
		p    float64
		want float64
	}{
		{"empty", nil, 50, 0},
		{"p50 of 1..100", xs, 50, 50},
		{"p99 of 1..100", xs, 99, 99},
		{"p100 is the max", xs, 100, 100},
		{"tiny p is the min", xs, 0.1, 1},
		{"single value", []float64{3}, 99, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := benchkit.Percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("Percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		a, b, want float64
	}{
		{"faster", 50, 100, 0.5},
		{"slower", 300, 100, 3},
		{"zero baseline has no ratio", 5, 0, 0},
		{"negative baseline has no ratio", 5, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := benchkit.Ratio(tt.a, tt.b); got != tt.want {
				t.Errorf("Ratio(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
