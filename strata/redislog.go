package strata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
)

// RouteRedisLogs sends go-redis's own log lines (failed dials, discarded
// connections, Sentinel discoveries, ...) to l at Warn, with "source" =
// "go-redis"; a nil l discards them.
//
// go-redis has one logger per process (redis.SetLogger), shared by every
// go-redis client in it, Strata's and any other, and writing to stderr by
// default. That is why NewDataStore leaves it alone and this call is
// opt-in: call it once at start-up if the process should log only through
// your Logger. It replaces whatever logger was set before. (Strata itself
// logs what matters about Redis through Config.Logger either way: refused
// credentials at Error, outages and repairs at Warn.)
func RouteRedisLogs(l Logger) { redis.SetLogger(redisLogAdapter{l}) }

// redisLogAdapter is go-redis's logging interface over a Logger.
type redisLogAdapter struct{ l Logger }

func (a redisLogAdapter) Printf(_ context.Context, format string, v ...any) {
	if a.l != nil {
		a.l.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)), "source", "go-redis")
	}
}

// authLogEvery is how often a Redis credentials failure that goes on is
// logged again.
const authLogEvery = time.Minute

// authWatch is a go-redis hook that logs Redis refusing this instance's
// credentials (WRONGPASS, NOAUTH, NOPERM) at Error through Config.Logger:
// a wrong password otherwise only shows as Redis being skipped. It logs the
// first failure at once, one of another kind (first word) at once, and the
// same kind again at most every authLogEvery, with the number of failures in between; a
// command that succeeds ends the episode (logged at Info).
type authWatch struct {
	log  Logger
	addr string

	failing atomic.Bool // an episode is going on; read on every command
	mu      sync.Mutex
	last    string    // the kind of error last logged: its first word
	lastAt  time.Time // when
	since   int       // failures since then
}

func newAuthWatch(log Logger, addr string) *authWatch { return &authWatch{log: log, addr: addr} }

func (w *authWatch) DialHook(next redis.DialHook) redis.DialHook { return next }

func (w *authWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		w.observe(err)
		return err
	}
}

func (w *authWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err == nil && len(cmds) > 0 {
			err = cmds[0].Err()
		}
		w.observe(err)
		return err
	}
}

func (w *authWatch) observe(err error) {
	if !l2redis.IsAuthError(err) {
		if (err == nil || errors.Is(err, redis.Nil)) && w.failing.Load() {
			w.mu.Lock()
			if w.failing.Swap(false) {
				w.last, w.since = "", 0
				w.log.Info("strata: redis accepts this instance's credentials again", "addr", w.addr)
			}
			w.mu.Unlock()
		}
		return
	}
	msg := err.Error()
	kind, _, _ := strings.Cut(msg, " ") // WRONGPASS, NOAUTH, ... (NOAUTH comes in two wordings)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failing.Store(true)
	if kind == w.last && now.Sub(w.lastAt) < authLogEvery {
		w.since++
		return
	}
	w.log.Error("strata: redis refused this instance's credentials; Redis is skipped (or fails, where it is the source of truth) until Config.RedisPassword is fixed",
		"addr", w.addr, "err", msg, "failures_since_last_log", w.since)
	w.last, w.lastAt, w.since = kind, now, 0
}

// Ensure the hook matches go-redis's interface.
var _ redis.Hook = (*authWatch)(nil)
