package l1mem_test

import (
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// TestGetWithTTLReportsTimeLeft: GetWithTTL returns what Get does, with
// the entry's time left (0 for one that never expires), and misses an
// expired entry.
func TestGetWithTTLReportsTimeLeft(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c, err := l1mem.New[string, int](&l1mem.Options[string, int]{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetWithTTL("a", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Set("forever", 2)
	clk.Advance(4 * time.Second)
	if v, left, ok := c.GetWithTTL("a"); !ok || v != 1 || left != 6*time.Second {
		t.Errorf("GetWithTTL(a) = %v, %v, %v; want 1, 6s, true", v, left, ok)
	}
	if v, left, ok := c.GetWithTTL("forever"); !ok || v != 2 || left != 0 {
		t.Errorf("GetWithTTL(forever) = %v, %v, %v; want 2, 0, true", v, left, ok)
	}
	clk.Advance(6 * time.Second)
	if _, _, ok := c.GetWithTTL("a"); ok {
		t.Error("GetWithTTL returned an expired entry")
	}
	if _, _, ok := c.GetWithTTL("missing"); ok {
		t.Error("GetWithTTL found a missing key")
	}
}
