package l2redis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

// replyErr is an error reply as go-redis returns it.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

var _ redis.Error = replyErr("")

func TestIsAuthError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{replyErr("WRONGPASS invalid username-password pair or user is disabled."), true},
		{replyErr("NOAUTH Authentication required."), true},
		{replyErr("NOPERM User app has no permissions to run the 'get' command"), true},
		{replyErr("ERR invalid password"), true},
		{fmt.Errorf("l2redis: %w", replyErr("WRONGPASS x")), true},
		{replyErr("ERR unknown command 'FOO'"), false},
		{replyErr("LOADING Redis is loading the dataset in memory"), false},
		{errors.New("WRONGPASS but not a reply"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsAuthError(tt.err); got != tt.want {
			t.Errorf("IsAuthError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
