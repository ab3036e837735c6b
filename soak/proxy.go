package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// balancer is a tiny round-robin reverse proxy for the webhook, standing in
// for the load balancer in front of several replicas. A request goes to the
// next backend; when that one cannot be reached (it was just killed) the
// next is tried, as a load balancer with passive health checks does; when
// none can, it answers 502 and Telegram (the fake) posts again later.
type balancer struct {
	backends []string // host:port
	next     atomic.Uint64
	client   *http.Client
	srv      *http.Server
	ln       net.Listener
	served   []atomic.Int64 // requests each backend answered
	failed   atomic.Int64   // requests no backend answered
}

func startBalancer(backends []string) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("soak: balancer: %w", err)
	}
	b := &balancer{
		backends: backends,
		client:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		ln:       ln,
		served:   make([]atomic.Int64, len(backends)),
	}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// URL is where the webhook is set: the balancer's address and path.
func (b *balancer) URL(path string) string { return "http://" + b.ln.Addr().String() + path }

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	start := b.next.Add(1)
	for try := range len(b.backends) {
		i := int((start + uint64(try)) % uint64(len(b.backends)))
		req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+b.backends[i]+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			break
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			continue // this replica is down: the next one
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if rerr != nil {
			continue // it died while answering: whether it stored the update or not, posting again is safe
		}
		b.served[i].Add(1)
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(data)
		return
	}
	b.failed.Add(1)
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

func (b *balancer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = b.srv.Close()
	}
}

func (b *balancer) counts() (served []int64, failed int64) {
	for i := range b.served {
		served = append(served, b.served[i].Load())
	}
	return served, b.failed.Load()
}
