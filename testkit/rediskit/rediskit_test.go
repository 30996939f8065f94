package rediskit_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// TestServerFreezeThawKillStart drives a private server through every
// disruption the tests use and checks what a client sees each time.
func TestServerFreezeThawKillStart(t *testing.T) {
	t.Parallel()
	s := rediskit.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ping := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return c.Ping(ctx).Err()
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := ping(200 * time.Millisecond); err == nil {
		t.Fatal("a frozen server answered")
	}
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("after thaw: %v", err)
	}
	s.Kill()
	if err := ping(time.Second); err == nil {
		t.Fatal("a killed server answered")
	}
	if err := s.Freeze(); !errors.Is(err, rediskit.ErrNotRunning) {
		t.Fatalf("Freeze of a stopped server: %v, want ErrNotRunning", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestSentinelReportsItsMaster(t *testing.T) {
	t.Parallel()
	s := rediskit.NewSentinel(t, "kit-master")
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: []string{s.Addr}})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	direct := redis.NewClient(&redis.Options{Addr: s.Master.Addr})
	defer direct.Close()
	if got, err := direct.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("the master behind the Sentinel holds k = %q, %v; want v", got, err)
	}
}

var shared rediskit.Shared

func TestSharedClusterAndPrefix(t *testing.T) {
	t.Parallel()
	cl := shared.Cluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := rediskit.Prefix(t, c, "kit-test")
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := c.Set(ctx, p+k, 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rediskit.DeletePrefix(c, p)
	for _, k := range []string{"a", "b", "c", "d"} {
		if n, err := c.Exists(ctx, p+k).Result(); err != nil || n != 0 {
			t.Fatalf("%s after DeletePrefix: exists=%d %v", p+k, n, err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Shutdown()
	os.Exit(code)
}

// TestServerFreezeAndKillReachTheSaveChild: a save runs in a process the
// server forks; Freeze must stop it too, and Kill must leave none of the
// server's processes behind. The child is kept busy with the server's
// rdb-key-save-delay (a pause per key saved).
func TestServerFreezeAndKillReachTheSaveChild(t *testing.T) {
	t.Parallel()
	s := rediskit.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 20 {
		if err := c.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ConfigSet(ctx, "rdb-key-save-delay", "1000000").Err(); err != nil { // 1 s per key
		t.Fatal(err)
	}
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	root := s.Running()
	var child int
	testkit.WaitUntil(t, 10*time.Second, "the save child", func() bool {
		kids := testkit.Descendants(root)
		if len(kids) > 0 {
			child = kids[0]
		}
		return child != 0
	})
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitUntil(t, 10*time.Second, "the save child to stop", func() bool { return testkit.State(child) == 'T' })
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitUntil(t, 10*time.Second, "the save child to run again", func() bool { return testkit.State(child) != 'T' })
	addr := s.Addr
	s.Kill()
	if testkit.Alive(child) || testkit.Alive(root) {
		t.Fatalf("after Kill: save child %d alive %v, server %d alive %v; want both gone",
			child, testkit.Alive(child), root, testkit.Alive(root))
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.Addr != addr {
		t.Errorf("restarted at %s, want the same address %s", s.Addr, addr)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("after Kill and Start: DBSIZE = %d, %v; want an empty server on the same port", n, err)
	}
}

// TestStartWithCustomArguments: a server the caller configures itself —
// here a unix socket and a password, no TCP port — is waited for with the
// caller's client options, and can be frozen and restarted like any other.
func TestStartWithCustomArguments(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	opts := &redis.Options{Network: "unix", Addr: sock, Password: "pw"}
	s := rediskit.StartWith(t, opts, "--port", "0", "--unixsocket", sock, "--requirepass", "pw",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Password: "pw", MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if err := c.Get(fctx, "k").Err(); err == nil {
		t.Error("a frozen server answered")
	}
	fcancel()
	s.Kill()
	if err := s.Start(); err != nil {
		t.Fatalf("restart with the caller's arguments: %v", err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("after Kill and Start: EXISTS k = %d, %v; want an empty server on the same socket", n, err)
	}
}

// TestDaemonAnswersAndIsTheCallers: the devstack's launcher starts a
// daemon (not a child of the test: it outlives the process that started
// it) on a port below the ephemeral range, which answers and is stopped by
// its pid.
func TestDaemonAnswersAndIsTheCallers(t *testing.T) {
	t.Parallel()
	testkit.RedisAddr(t) // gated like every server test
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testkit.Unavailable(t, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr, pid, err := rediskit.Daemon(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testkit.KillTree(pid, 10*time.Second) })
	if slices.Contains(testkit.Descendants(os.Getpid()), pid) {
		t.Errorf("the daemon (pid %d) is a descendant of the test: it would not outlive it", pid)
	}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("daemon at %s: %v", addr, err)
	}
	if err := testkit.KillTree(pid, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if testkit.Alive(pid) {
		t.Fatalf("daemon %d alive after KillTree", pid)
	}
}
