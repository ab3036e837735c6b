package bench

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// rtProxy is a TCP proxy between a bot process and PostgreSQL that counts
// round trips the way storagetest.RoundTrips does inside a process: on each
// connection, a round trip starts when the client sends after the server
// has answered (or sends for the first time). A pipelined batch is one round
// trip; every statement sent and waited on alone is one.
type rtProxy struct {
	ln     net.Listener
	target string
	n      atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

func startProxy(target string) (*rtProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: round-trip proxy: %w", err)
	}
	p := &rtProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is host:port to point the bot's database URL at.
func (p *rtProxy) Addr() string { return p.ln.Addr().String() }

// Count returns the round trips so far.
func (p *rtProxy) Count() int64 { return p.n.Load() }

func (p *rtProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *rtProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *rtProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *rtProxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client) || !p.track(server) {
		client.Close()
		server.Close()
		return
	}
	defer p.untrack(client)
	defer p.untrack(server)
	// answered is set when the server sent something since the client last
	// did: the client's next bytes begin a new exchange.
	var answered atomic.Bool
	answered.Store(true)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.copy(server, client, func() {
			if answered.Swap(false) {
				p.n.Add(1)
			}
		})
		closeWrite(server)
	}()
	go func() {
		defer wg.Done()
		p.copy(client, server, func() { answered.Store(true) })
		closeWrite(client)
	}()
	wg.Wait()
	client.Close()
	server.Close()
}

// copy copies src to dst, calling seen before forwarding each chunk read.
func (p *rtProxy) copy(dst, src net.Conn, seen func()) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			seen()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection: either way this direction is done
		}
	}
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		return
	}
	_ = c.Close()
}

// Close stops accepting, cuts every connection and waits for the copies.
func (p *rtProxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
