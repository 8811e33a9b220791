// Package gomemcache is stormproof live's adapter for
// github.com/bradfitz/gomemcache. It is a module of its own, so a program
// that tests another client does not depend on gomemcache. Pass Adapter to
// live.Main.
package gomemcache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/server"
	"github.com/stormproof/stormproof/model"
)

// Adapter opens a gomemcache client whose socket timeout is the request
// deadline.
// It behaves as the model's discard-on-timeout: gomemcache returns a
// connection to its free list only after a clean exchange, so a timed-out
// connection is closed with its late reply.
var Adapter = cache.Adapter{Name: "gomemcache", Server: "memcached", About: "github.com/bradfitz/gomemcache", Open: open,
	Behaves: &discardOnTimeout}

var discardOnTimeout = model.DiscardOnTimeout

type client struct{ c *memcache.Client }

func open(o cache.Options) (cache.Client, cache.Settings, error) {
	c := memcache.New(o.Addr)
	if o.Password != "" {
		// Each new connection authenticates first (memcached's ASCII
		// authentication); gomemcache then uses it as it would any other.
		c.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if dl, ok := ctx.Deadline(); ok {
				nc.SetDeadline(dl)
			}
			err = server.Authenticate(server.Memcached, o.User, o.Password, nc, bufio.NewReaderSize(nc, 64))
			nc.SetDeadline(time.Time{})
			if err != nil {
				nc.Close()
				return nil, err
			}
			return nc, nil
		}
	}
	// gomemcache has no context: its socket deadline is the request deadline.
	c.Timeout = o.Timeout
	c.MaxIdleConns = o.PoolSize
	s := cache.Settings{"Timeout": c.Timeout.String(), "MaxIdleConns": c.MaxIdleConns,
		"deadline": "socket timeout only (the library takes no context)"}
	return &client{c}, s, nil
}

func (g *client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	it, err := g.c.Get(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, connectErr(err)
	}
	return it.Value, true, nil
}

func (g *client) Set(ctx context.Context, key string, val []byte) error {
	return connectErr(g.c.Set(&memcache.Item{Key: key, Value: val}))
}

// connectErr marks a connect timeout (its error type is no net.Error) as a
// request that was never sent.
func connectErr(err error) error {
	var cte *memcache.ConnectTimeoutError
	if errors.As(err, &cte) {
		return fmt.Errorf("%w: %v", cache.ErrNotSent, err)
	}
	return err
}

func (g *client) Close() error { return g.c.Close() }
