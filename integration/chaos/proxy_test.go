package chaos_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/integration/chaos"
)

// echoServer answers every line with the same line and counts the lines it
// received and the connections that ended with a reset.
type echoServer struct {
	ln     net.Listener
	lines  atomic.Int64
	resets atomic.Int64
	eofAt  chan time.Time // when a connection saw EOF
	wg     sync.WaitGroup
}

func newEchoServer(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{ln: ln, eofAt: make(chan time.Time, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						if errors.Is(err, syscall.ECONNRESET) {
							s.resets.Add(1)
						} else if errors.Is(err, io.EOF) {
							s.eofAt <- time.Now()
						}
						return
					}
					s.lines.Add(1)
					if _, err := c.Write(line); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func newProxy(t *testing.T, upstream string) *chaos.Proxy {
	t.Helper()
	p, err := chaos.NewProxy("test", upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *chaos.Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, msg string) (string, error) {
	t.Helper()
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return line[:len(line)-1], nil
}

// waitFor polls cond every 10 ms until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProxyPassesBytesBothWays(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := newProxy(t, srv.ln.Addr().String())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			big := make([]byte, 200<<10) // larger than one chunk
			for j := range big {
				big[j] = 'a' + byte((i+j)%26)
			}
			got, err := roundTrip(t, c, r, string(big))
			if err != nil || got != string(big) {
				t.Errorf("conn %d: echo of %d bytes came back as %d bytes, err %v", i, len(big), len(got), err)
			}
		}()
	}
	wg.Wait()
	if n := p.Accepted(); n != 8 {
		t.Errorf("Accepted() = %d, want 8", n)
	}
}

func TestProxyLatencyDelaysEachDirection(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := newProxy(t, srv.ln.Addr().String())
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "warm"); err != nil {
		t.Fatal(err)
	}
	p.SetLatency(100 * time.Millisecond)
	start := time.Now()
	if got, err := roundTrip(t, c, r, "slow"); err != nil || got != "slow" {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("round trip with 100ms latency each way took %v, want ≥ 200ms", el)
	}
	p.SetLatency(0)
	start = time.Now()
	if _, err := roundTrip(t, c, r, "fast"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 150*time.Millisecond {
		t.Logf("round trip without latency took %v (a loaded machine?)", el)
	}
}

// TestProxyBlackholeHoldsBytesAndDeliversThemOnHeal proves the partition
// semantics the suite relies on: nothing reaches the server while the
// blackhole lasts, even from a client that gave up and closed, and the held
// bytes arrive when it ends.
func TestProxyBlackholeHoldsBytesAndDeliversThemOnHeal(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := newProxy(t, srv.ln.Addr().String())
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "before"); err != nil {
		t.Fatal(err)
	}
	p.SetBlackhole(true)
	if _, err := c.Write([]byte("held\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := r.ReadString('\n'); !errors.Is(err, syscall.ETIMEDOUT) && !isTimeout(err) {
		t.Fatalf("read during blackhole: err = %v, want a timeout", err)
	}
	if n := srv.lines.Load(); n != 1 {
		t.Fatalf("server received %d lines during the blackhole, want 1 (the one before)", n)
	}
	// A new connection is accepted but not dialled upstream.
	c2, _ := dial(t, p)
	if _, err := c2.Write([]byte("late\n")); err != nil {
		t.Fatal(err)
	}
	c2.Close() // the client gives up; its bytes and its close are held
	time.Sleep(100 * time.Millisecond)
	if n := srv.lines.Load(); n != 1 {
		t.Fatalf("server received %d lines during the blackhole, want 1", n)
	}
	p.SetBlackhole(false)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("after heal: %q, %v; want the held line echoed", got, err)
	}
	waitFor(t, 5*time.Second, "the abandoned connection's line reaches the server after heal", func() bool { return srv.lines.Load() == 3 })
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestProxyResetResetsLiveConnections proves Reset sends an RST to both ends
// of connections that are already open (toxiproxy's reset_peer does not).
func TestProxyResetResetsLiveConnections(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := newProxy(t, srv.ln.Addr().String())
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "hello"); err != nil {
		t.Fatal(err)
	}
	if n := p.Reset(); n != 1 {
		t.Fatalf("Reset() = %d, want 1 live connection", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := r.ReadString('\n')
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after Reset: err = %v, want ECONNRESET", err)
	}
	waitFor(t, 5*time.Second, "the server sees a reset", func() bool { return srv.resets.Load() == 1 })
	waitFor(t, 5*time.Second, "the link is forgotten", func() bool { return p.Live() == 0 })
	// The proxy still accepts new connections.
	c2, r2 := dial(t, p)
	if got, err := roundTrip(t, c2, r2, "again"); err != nil || got != "again" {
		t.Fatalf("after Reset: %q, %v", got, err)
	}
}

func TestProxySlowCloseDelaysTheFin(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := newProxy(t, srv.ln.Addr().String())
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "hello"); err != nil {
		t.Fatal(err)
	}
	p.SetSlowClose(300 * time.Millisecond)
	closed := time.Now()
	c.Close()
	select {
	case at := <-srv.eofAt:
		if d := at.Sub(closed); d < 300*time.Millisecond {
			t.Errorf("server saw EOF %v after the client closed, want ≥ 300ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server never saw EOF")
	}
}

func TestProxyCloseEndsEverything(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p, err := chaos.NewProxy("test", srv.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "x"); err != nil {
		t.Fatal(err)
	}
	p.SetBlackhole(true)
	if _, err := c.Write([]byte("held\n")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a blackhole held a connection")
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Error("the proxy still accepts after Close")
	}
}
