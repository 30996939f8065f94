package codec_test

import (
	"fmt"

	"github.com/AndrewDonelson/strata/codec"
)

func Example() {
	type Player struct {
		ID    string
		Level int
		Tags  []string
	}
	for _, c := range []codec.Codec{codec.MsgPack{}, codec.JSON{}} {
		data, err := c.Marshal(Player{ID: "p1", Level: 7, Tags: []string{"new"}})
		if err != nil {
			fmt.Println(err)
			return
		}
		var p Player
		if err := c.Unmarshal(data, &p); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d bytes, %+v\n", c.Name(), len(data), p)
	}
	// Output:
	// msgpack: 24 bytes, {ID:p1 Level:7 Tags:[new]}
	// json: 36 bytes, {ID:p1 Level:7 Tags:[new]}
}

func ExampleMsgPack_Unmarshal_errors() {
	var n int
	err := codec.MsgPack{}.Unmarshal([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, &n)
	fmt.Println(err)
	// Output:
	// codec: msgpack: unmarshal into *int: codec: decode failed: a container declares 4294967295 values but only 0 bytes remain: input ends inside a value
}
