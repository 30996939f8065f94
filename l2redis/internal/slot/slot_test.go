package slot_test

import (
	"testing"

	"github.com/AndrewDonelson/strata/l2redis/internal/slot"
	"github.com/google/go-cmp/cmp"
)

func TestOf(t *testing.T) {
	t.Parallel()
	// Expected slots are those `CLUSTER KEYSLOT` reports on Redis 7.
	tests := []struct {
		name string
		key  string
		want int
	}{
		{name: "plain", key: "foo", want: 12182},
		{name: "plain2", key: "123456789", want: 12739},
		{name: "tag", key: "{user1000}.following", want: slot.Of("user1000")},
		{name: "empty tag hashes whole key", key: "foo{}{bar}", want: slot.Of("foo{}{bar}")},
		{name: "unclosed brace", key: "foo{bar", want: slot.Of("foo{bar")},
		{name: "first tag wins", key: "foo{{bar}}zap", want: slot.Of("{bar")},
		{name: "empty key", key: "", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := slot.Of(tt.key); got != tt.want {
				t.Errorf("Of(%q) = %d, want %d", tt.key, got, tt.want)
			}
		})
	}
}

func TestTag(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, want string }{
		{"a{b}c", "b"},
		{"a{}c", "a{}c"},
		{"a{b", "a{b"},
		{"a}b{c}", "c"},
		{"{{x}}", "{x"},
	}
	for _, tt := range tests {
		if got := slot.Tag(tt.key); got != tt.want {
			t.Errorf("Tag(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestGroupKeys(t *testing.T) {
	t.Parallel()
	keys := []string{"{a}1", "{b}1", "{a}2", "{b}2", "{c}"}
	got := slot.GroupKeys(keys)
	want := []slot.Group{
		{Slot: slot.Of("a"), Indexes: []int{0, 2}},
		{Slot: slot.Of("b"), Indexes: []int{1, 3}},
		{Slot: slot.Of("c"), Indexes: []int{4}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GroupKeys mismatch (-want +got):\n%s", diff)
	}
}
