// Package compress is a codec.Codec wrapper that compresses large values
// with S2 or Zstandard (github.com/klauspost/compress).
//
// Values the inner codec encodes to fewer than [Options.MinSize] bytes (1
// KiB by default) are stored exactly as the inner codec wrote them, so they
// cost nothing, and values written by the inner codec alone — before
// compression was turned on — still decode. A compressed value starts with
// the byte 0xc1, which MessagePack never uses and JSON cannot start with,
// followed by a byte naming the algorithm; either algorithm decodes
// whichever one a Codec is set to compress with.
//
// It is a module of its own so that the codec module, and every module
// that uses it, keeps no dependency beyond MessagePack.
//
//	c, err := compress.New(codec.MsgPack{}, &compress.Options{Algorithm: compress.Zstd})
//	ds, err := strata.NewDataStore(strata.Config{Codec: c, ...})
package compress
