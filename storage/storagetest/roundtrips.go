package storagetest

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stilstaan/stilstaan/storage"
)

// RoundTrips counts the round trips the store's connections make to the
// server, at the network level: each time a connection writes after having
// read (or writes for the first time), the client is starting a new exchange
// it will wait on. The zero value is ready; install it with Option.
type RoundTrips struct {
	n atomic.Int64
}

// Option returns a storage option that routes every connection through r.
func (r *RoundTrips) Option() storage.Option {
	return storage.WithPoolConfig(func(cfg *pgxpool.Config) {
		dial := cfg.ConnConfig.DialFunc
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cc := &countingConn{Conn: c, r: r}
			cc.readLast.Store(true)
			return cc, nil
		}
	})
}

// Count returns the round trips so far.
func (r *RoundTrips) Count() int64 { return r.n.Load() }

// Reset sets the count to zero.
func (r *RoundTrips) Reset() { r.n.Store(0) }

type countingConn struct {
	net.Conn
	r        *RoundTrips
	readLast atomic.Bool
}

func (c *countingConn) Write(b []byte) (int, error) {
	if c.readLast.Swap(false) {
		c.r.n.Add(1)
	}
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.readLast.Store(true)
	}
	return n, err
}
