package codec

import (
	"encoding/json"
	"fmt"
)

// JSON encodes values with the standard library's encoding/json. It is
// slower and larger than [MsgPack] but readable with redis-cli.
//
// The zero value is ready to use and safe for concurrent use.
type JSON struct{}

var _ Codec = JSON{}

// Name returns "json".
func (JSON) Name() string { return "json" }

// Marshal encodes v as JSON.
func (JSON) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("codec: json: marshal %T: %w: %w", v, ErrEncode, err)
	}
	return b, nil
}

// Unmarshal decodes JSON data into the value v points to.
func (JSON) Unmarshal(data []byte, v any) error {
	if !checkTarget(v) {
		return fmt.Errorf("codec: json: unmarshal into %T: target must be a non-nil pointer: %w", v, ErrDecode)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: json: unmarshal into %T: %w: %w", v, ErrDecode, err)
	}
	return nil
}
