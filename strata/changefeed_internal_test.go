package strata

import (
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
)

func TestDefaultFeedSlotIsAValidSlotNamePerChannel(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, ch := range []string{DefaultInvalidationChannel, "strata:invalidate:billing", "", "Ünïcode / spaces", strings.Repeat("x", 500)} {
		slot := defaultFeedSlot(ch)
		if !changefeed.ValidSlotName(slot) || !strings.HasPrefix(slot, "strata_") {
			t.Errorf("defaultFeedSlot(%q) = %q: not a valid slot name", ch, slot)
		}
		if other, dup := seen[slot]; dup {
			t.Errorf("channels %q and %q share slot %q", ch, other, slot)
		}
		seen[slot] = ch
	}
	c, err := Config{PostgresDSN: "postgres://u@127.0.0.1:1/db", ChangeFeed: true}.withDefaults()
	if err != nil || c.ChangeFeedSlot != defaultFeedSlot(DefaultInvalidationChannel) {
		t.Errorf("withDefaults: slot %q, %v", c.ChangeFeedSlot, err)
	}
}
