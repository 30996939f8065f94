package chaos

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy between one Strata instance and one server. It injects
// the network faults of the suite:
//
//   - latency: every chunk of bytes, in each direction, is delivered latency
//     after it was read (so a round trip costs twice that);
//   - blackhole: bytes are read and held, in order, and nothing is delivered
//     in either direction, nor is a new connection dialled upstream, until
//     the blackhole ends — then everything held is delivered, closes
//     included. It is a partition in which the packets a client gave up on
//     still arrive when the network heals, so a server may run a statement
//     whose caller has long seen a timeout;
//   - reset: every live connection is closed with SO_LINGER 0 on both sides,
//     so the client and the server each get an RST (ECONNRESET);
//   - slow close: when one side closes, the other side is told slowClose later.
//
// A Proxy listens on a loopback port of its own; its upstream address is
// fixed (the suite restarts servers on their port).
type Proxy struct {
	name     string
	upstream string
	ln       net.Listener

	mu        sync.Mutex
	cond      *sync.Cond // broadcast when the blackhole ends or a link dies
	blackhole bool
	latency   time.Duration
	slowClose time.Duration
	links     map[*link]struct{}
	closed    bool
	accepted  int64

	wg sync.WaitGroup
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	done           chan struct{} // closed by kill
	once           sync.Once
}

// chunk is what a reader hands to the writer of its direction; eof marks the
// end of the stream (delivered as a half close, after the bytes before it).
type chunk struct {
	data []byte
	at   time.Time // when it may be delivered
	eof  bool
}

// NewProxy starts a proxy to upstream (host:port) on a free loopback port.
func NewProxy(name, upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos: proxy %s: listen: %w", name, err)
	}
	p := &Proxy{name: name, upstream: upstream, ln: ln, links: map[*link]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Name is the name given to NewProxy, e.g. "a/redis".
func (p *Proxy) Name() string { return p.name }

// Addr is the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetLatency delays every chunk by d in each direction (0 removes it).
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// SetBlackhole starts (true) or ends (false) the blackhole.
func (p *Proxy) SetBlackhole(on bool) {
	p.mu.Lock()
	p.blackhole = on
	p.mu.Unlock()
	p.cond.Broadcast()
}

// SetSlowClose delays the propagation of a close by d (0 removes it).
func (p *Proxy) SetSlowClose(d time.Duration) {
	p.mu.Lock()
	p.slowClose = d
	p.mu.Unlock()
}

// Heal removes every fault; held bytes are delivered.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.blackhole, p.latency, p.slowClose = false, 0, 0
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Reset resets every live connection (an RST to both ends) and returns how
// many there were. Bytes held by a blackhole on them are dropped.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	ls := make([]*link, 0, len(p.links))
	for l := range p.links {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	for _, l := range ls {
		p.kill(l, true)
	}
	return len(ls)
}

// Live is the number of connections currently proxied.
func (p *Proxy) Live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Accepted is the number of connections accepted since the start.
func (p *Proxy) Accepted() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Close stops listening, resets every connection and waits for the proxy's
// goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Reset()
	p.cond.Broadcast()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		l := &link{client: c, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.links[l] = struct{}{}
		p.accepted++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(l)
	}
}

// serve dials upstream once no blackhole holds the link, then pumps both
// directions until both have ended.
func (p *Proxy) serve(l *link) {
	defer p.wg.Done()
	defer p.forget(l)
	if !p.waitOpen(l) {
		return
	}
	s, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		p.kill(l, true) // the client sees a reset, as from a refused connection
		return
	}
	p.mu.Lock()
	l.server = s
	dead := p.closed
	p.mu.Unlock()
	select {
	case <-l.done: // reset while dialling
		dead = true
	default:
	}
	if dead {
		p.kill(l, true)
		return
	}
	var dirs sync.WaitGroup
	dirs.Add(2)
	go p.pump(l, l.client, s, &dirs)
	go p.pump(l, s, l.client, &dirs)
	dirs.Wait()
	p.kill(l, false)
}

// pump copies src to dst through a reader and a writer goroutine, so that
// latency delays bytes without limiting throughput and a blackhole holds
// them without blocking the reader at once.
func (p *Proxy) pump(l *link, src, dst net.Conn, dirs *sync.WaitGroup) {
	defer dirs.Done()
	ch := make(chan chunk, 64)
	go func() { // reader
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case ch <- chunk{data: buf[:n], at: time.Now().Add(p.getLatency())}:
				case <-l.done:
					return
				}
			}
			if err != nil {
				if errors.Is(err, net.ErrClosed) || !errors.Is(err, io.EOF) {
					p.kill(l, true) // a reset (or our own close) ends both sides at once
					return
				}
				select {
				case ch <- chunk{eof: true, at: time.Now().Add(p.getLatency())}:
				case <-l.done:
				}
				return
			}
		}
	}()
	for c := range ch { // writer
		if !p.sleepUntil(l, c.at) || !p.waitOpen(l) {
			return
		}
		if c.eof {
			if d := p.getSlowClose(); d > 0 && !p.sleepUntil(l, time.Now().Add(d)) {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			p.kill(l, true)
			return
		}
	}
}

func (p *Proxy) getLatency() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latency
}

func (p *Proxy) getSlowClose() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slowClose
}

// sleepUntil waits until t, or returns false if the link dies first.
func (p *Proxy) sleepUntil(l *link, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		select {
		case <-l.done:
			return false
		default:
			return true
		}
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-l.done:
		return false
	}
}

// waitOpen blocks while a blackhole holds the proxy; false if the link died.
func (p *Proxy) waitOpen(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.blackhole && !p.closed {
		select {
		case <-l.done:
			return false
		default:
		}
		p.cond.Wait()
	}
	select {
	case <-l.done:
		return false
	default:
		return !p.closed
	}
}

// kill closes both ends of l once; with reset, as an RST (SO_LINGER 0).
func (p *Proxy) kill(l *link, reset bool) {
	l.once.Do(func() {
		close(l.done)
		p.mu.Lock()
		s := l.server
		p.mu.Unlock()
		for _, c := range []net.Conn{l.client, s} {
			if c == nil {
				continue
			}
			if tc, ok := c.(*net.TCPConn); ok && reset {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
		p.cond.Broadcast() // wake a writer waiting in waitOpen
	})
}

func (p *Proxy) forget(l *link) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}
