package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// The faults the injector draws from, with their weights. Network faults hit
// one instance's link to one server (through its Proxy); process faults hit
// a server every instance shares, or a child writer.
var faultWeights = []struct {
	kind   string
	weight int
}{
	{"redis-latency", 2}, {"pg-latency", 2},
	{"redis-blackhole", 3}, {"pg-blackhole", 3},
	{"redis-reset", 2}, {"pg-reset", 2},
	{"redis-slowclose", 1}, {"pg-slowclose", 1},
	{"redis-pause", 2}, {"pg-pause", 2},
	{"redis-restart", 1}, {"pg-restart", 1},
	{"redis-flushall", 1}, {"subscriber-kill", 1},
	{"child-kill", 2},
}

// FaultKinds lists every fault kind the injector knows.
func FaultKinds() []string {
	out := make([]string, len(faultWeights))
	for i, f := range faultWeights {
		out[i] = f.kind
	}
	return out
}

// Links are one instance's two proxies.
type Links struct {
	PG, Redis *Proxy
}

// Injector injects faults, one at a time with calm gaps between them, and
// records each one's window. Kinds are drawn from a shuffled deck holding
// each kind as many times as its weight, so a short run still sees many.
type Injector struct {
	Servers  *Servers
	Links    map[string]Links // by instance slot
	Children []string         // child slots
	// KillChild SIGKILLs a child slot's process and starts its next
	// incarnation.
	KillChild func(slot string) error
	Hold      [2]time.Duration // a windowed fault lasts within [0] and [1]
	Gap       [2]time.Duration // calm between faults
	Kinds     []string         // if set, only these
	Clock     func() int64     // the history's clock
	Log       func(format string, args ...any)

	mu     sync.Mutex
	faults []Fault
	errs   []string
}

// Faults returns the faults injected so far.
func (in *Injector) Faults() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Fault(nil), in.faults...)
}

// Errors returns the faults that could not be injected or healed.
func (in *Injector) Errors() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.errs...)
}

func (in *Injector) fail(format string, args ...any) {
	in.mu.Lock()
	in.errs = append(in.errs, fmt.Sprintf(format, args...))
	in.mu.Unlock()
}

// Run injects faults until ctx ends; the fault in progress is healed before
// it returns.
func (in *Injector) Run(ctx context.Context, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xfa017))
	slots := make([]string, 0, len(in.Links))
	for s := range in.Links {
		slots = append(slots, s)
	}
	sort.Strings(slots)
	var table []string
	for _, f := range faultWeights {
		if len(in.Kinds) > 0 && !contains(in.Kinds, f.kind) {
			continue
		}
		if f.kind == "child-kill" && len(in.Children) == 0 {
			continue
		}
		for range f.weight {
			table = append(table, f.kind)
		}
	}
	between := func(r [2]time.Duration) time.Duration {
		return r[0] + time.Duration(rng.Int64N(int64(r[1]-r[0])+1))
	}
	var deck []string // the weighted table, shuffled, drawn without replacement
	for {
		if !sleepCtx(ctx, between(in.Gap)) {
			return
		}
		if len(deck) == 0 {
			deck = append(deck[:0], table...)
			rng.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
		}
		kind := deck[0]
		deck = deck[1:]
		hold := between(in.Hold)
		target := slots[rng.IntN(len(slots))]
		in.inject(ctx, rng, kind, target, hold)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// sleepCtx sleeps d or until ctx ends (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// inject applies one fault, holds it (windowed faults), heals it and
// records it.
func (in *Injector) inject(ctx context.Context, rng *rand.Rand, kind, target string, hold time.Duration) {
	l := in.Links[target]
	var (
		apply func() error
		heal  func() error
	)
	windowed := func(on, off func()) {
		apply = func() error { on(); return nil }
		heal = func() error { off(); return nil }
	}
	switch kind {
	case "redis-latency":
		d := time.Duration(20+rng.IntN(130)) * time.Millisecond
		windowed(func() { l.Redis.SetLatency(d) }, func() { l.Redis.SetLatency(0) })
	case "pg-latency":
		d := time.Duration(20+rng.IntN(130)) * time.Millisecond
		windowed(func() { l.PG.SetLatency(d) }, func() { l.PG.SetLatency(0) })
	case "redis-blackhole":
		windowed(func() { l.Redis.SetBlackhole(true) }, func() { l.Redis.SetBlackhole(false) })
	case "pg-blackhole":
		windowed(func() { l.PG.SetBlackhole(true) }, func() { l.PG.SetBlackhole(false) })
	case "redis-slowclose":
		d := time.Duration(200+rng.IntN(600)) * time.Millisecond
		windowed(func() { l.Redis.SetSlowClose(d) }, func() { l.Redis.SetSlowClose(0) })
	case "pg-slowclose":
		d := time.Duration(200+rng.IntN(600)) * time.Millisecond
		windowed(func() { l.PG.SetSlowClose(d) }, func() { l.PG.SetSlowClose(0) })
	case "redis-reset":
		apply = func() error { l.Redis.Reset(); return nil }
	case "pg-reset":
		apply = func() error { l.PG.Reset(); return nil }
	case "redis-pause":
		target = "*"
		apply, heal = in.Servers.Redis.Freeze, in.Servers.Redis.Thaw
	case "pg-pause":
		target = "*"
		apply, heal = in.Servers.PG.Freeze, in.Servers.PG.Thaw
	case "redis-restart":
		target = "*"
		apply = in.Servers.RestartRedis
	case "pg-restart":
		target = "*"
		apply = func() error { return in.Servers.RestartPG(context.Background()) }
	case "redis-flushall":
		target = "*"
		apply = func() error {
			c := in.Servers.RedisClient()
			defer c.Close()
			return c.FlushAll(context.Background()).Err()
		}
	case "subscriber-kill":
		target = "*"
		apply = func() error {
			c := in.Servers.RedisClient()
			defer c.Close()
			return c.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err()
		}
	case "child-kill":
		target = in.Children[rng.IntN(len(in.Children))]
		apply = func() error { return in.KillChild(target) }
	default:
		in.fail("unknown fault kind %q", kind)
		return
	}
	f := Fault{Kind: kind, Target: target, Start: in.Clock()}
	if in.Log != nil {
		in.Log("fault %s on %s (hold %v)", kind, target, hold)
	}
	if err := apply(); err != nil {
		in.fail("%s on %s: %v", kind, target, err)
	}
	if heal != nil {
		sleepCtx(ctx, hold) // cut short when the run ends; healed either way
		if err := heal(); err != nil {
			in.fail("healing %s on %s: %v", kind, target, err)
		}
	}
	f.End = in.Clock()
	in.mu.Lock()
	in.faults = append(in.faults, f)
	in.mu.Unlock()
}
