package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// answerWait bounds how long Release waits for the server to answer the
// held bytes before it forwards those of the connections opened during the
// hold anyway.
const answerWait = 10 * time.Second

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
	// waits has, for each connection from before the hold whose bytes
	// the hold caught, a channel closed when the server first answers
	// after the release (or closes the connection).
	waits     map[int]chan struct{}
	releasing bool // the gate is open, the late gate not yet
	closed    bool
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
// connections opened before it; then, once the server has answered every
// one of those that the hold caught (or closed it; at most answerWait),
// the bytes of connections opened during the hold — such as the cancel
// request a client sends when it gives up, which a thawing server would
// see after the statement. (A fixed pause there, 200 ms once, let a
// cancel overtake a statement the loaded server had not finished, and
// cancel it.) Release returns when it has forwarded everything.
func (p *Proxy) Release() {
	p.mu.Lock()
	if !p.held {
		p.trigger = nil
		p.mu.Unlock()
		return
	}
	p.held, p.trigger, p.releasing = false, nil, true
	gate, late := p.gate, p.lateGate
	waits := make([]chan struct{}, 0, len(p.waits))
	for _, ch := range p.waits {
		waits = append(waits, ch)
	}
	p.mu.Unlock()
	start := time.Now()
	close(gate)
	timer := time.NewTimer(answerWait)
	defer timer.Stop()
	answered := true
	for _, ch := range waits {
		select {
		case <-ch:
		case <-timer.C:
			answered = false
		}
		if !answered {
			break
		}
	}
	p.mu.Lock()
	p.releasing, p.waits = false, nil
	p.mu.Unlock()
	close(late)
	if answered {
		p.t.Logf("proxy: the server answered the held bytes of %d connection(s) %v after the release", len(waits), time.Since(start).Round(time.Millisecond))
	} else {
		p.t.Logf("proxy: the server had not answered the held bytes %v after the release; forwarding the later connections' bytes anyway", answerWait)
	}
}

// answered notes that the server sent connection id bytes (or closed it):
// during a release, the held bytes of id have been answered.
func (p *Proxy) answered(id int, closed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.waits[id]; ok && (p.releasing || closed) {
		close(ch)
		delete(p.waits, id)
	}
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
					p.answered(id, false)
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			p.answered(id, true)
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
// Once a hold has begun, a connection from before it waits at the gate, and
// one opened during it at the late gate, until Release closes them.
func (p *Proxy) gateFor(id int, chunk []byte) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.held && p.trigger != nil && p.trigger(chunk) {
		p.held, p.trigger = true, nil
		p.holdFrom = p.next
		p.gate, p.lateGate = make(chan struct{}), make(chan struct{})
		p.waits = map[int]chan struct{}{}
		close(p.heldCh)
	}
	switch {
	case p.gate == nil: // never held
		return nil
	case id < p.holdFrom:
		if p.held && p.waits[id] == nil {
			p.waits[id] = make(chan struct{})
		}
		return p.gate // closed once released
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
