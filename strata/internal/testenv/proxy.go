package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a server, for tests that make the server
// look frozen to one client: while it holds, the bytes clients send are
// kept back (the server sees nothing, as when it is stopped with SIGSTOP),
// and Release forwards them, so a statement its client gave up on runs
// afterwards. What the server sends is always forwarded.
type Proxy struct {
	// Addr is the proxy's host:port.
	Addr string

	t        testing.TB
	upstream string
	ln       net.Listener
	wg       sync.WaitGroup

	mu       sync.Mutex
	conns    []net.Conn
	next     int               // id of the next connection
	trigger  func([]byte) bool // arms a hold (HoldWhen)
	held     bool              // holding now
	holdFrom int               // first connection id opened during the hold
	gate     chan struct{}     // closed on Release: connections from before the hold
	lateGate chan struct{}     // closed after gate: connections opened during the hold
	heldCh   chan struct{}     // closed when the hold begins
	closed   bool
}

// StartProxy starts a proxy to upstream (host:port), stopped when the test
// ends.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), t: t, upstream: upstream, ln: ln}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// HoldWhen arms the proxy: from the first chunk of bytes a client sends for
// which match returns true (that chunk included), every client's bytes are
// held until Release. The returned channel is closed when the hold begins.
func (p *Proxy) HoldWhen(match func(chunk []byte) bool) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trigger = match
	p.heldCh = make(chan struct{})
	return p.heldCh
}

// Release forwards what was held and ends the hold: first the bytes of the
// connections opened before it, then, a moment later, those of connections
// opened during it (such as the cancel request a client sends when it gives
// up, which a thawing server would also see after the statement).
func (p *Proxy) Release() {
	p.mu.Lock()
	if !p.held {
		p.trigger = nil
		p.mu.Unlock()
		return
	}
	p.held, p.trigger = false, nil
	gate, late := p.gate, p.lateGate
	p.mu.Unlock()
	close(gate)
	time.Sleep(200 * time.Millisecond)
	close(late)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		id := p.next
		p.next++
		p.conns = append(p.conns, c, up)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pump(id, c, up)
		go func() { // server to client, never held
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := up.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}()
	}
}

// pump copies client connection id's bytes to the server, waiting at the
// gate while the proxy holds.
func (p *Proxy) pump(id int, c, up net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if gate := p.gateFor(id, buf[:n]); gate != nil {
				<-gate
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if tc, ok := up.(*net.TCPConn); ok {
		_ = tc.CloseWrite() // the server reads what was sent, then the end
	}
}

// gateFor returns the gate a chunk of connection id must wait at, or nil.
func (p *Proxy) gateFor(id int, chunk []byte) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.held && p.trigger != nil && p.trigger(chunk) {
		p.held, p.trigger = true, nil
		p.holdFrom = p.next
		p.gate, p.lateGate = make(chan struct{}), make(chan struct{})
		close(p.heldCh)
	}
	switch {
	case !p.held:
		return nil
	case id < p.holdFrom:
		return p.gate
	default:
		return p.lateGate
	}
}

func (p *Proxy) close() {
	p.Release()
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
