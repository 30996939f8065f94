package codec_test

import (
	"testing"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/codec/codectest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, c := range []codec.Codec{codec.MsgPack{}, codec.JSON{}, codec.Default} {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			codectest.Run(t, c)
		})
	}
}
