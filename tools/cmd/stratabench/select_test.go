package main

import "testing"

func TestSelected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, only string
		want       bool
	}{
		{"l1/get-hit", "", true},
		{"l1/get-hit", "l1/", true},
		{"tiers/get-l3", "l1/", false},
		{"stampede/64-gets-cold-key", "tiers/, stampede/", true},
		{"peers/read-through-zipf", ",,", false},
	}
	for _, tt := range tests {
		if got := selected(tt.name, tt.only); got != tt.want {
			t.Errorf("selected(%q, %q) = %v, want %v", tt.name, tt.only, got, tt.want)
		}
	}
}
