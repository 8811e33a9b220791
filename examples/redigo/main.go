// Command redigo-live tests github.com/gomodule/redigo in stormproof's
// reconnect storm: a program of its own, in a module of its own, built on
// live.Main, so it takes every flag of `stormproof live` and requires none
// of the client libraries it does not test. Three adapters:
//
//   - redigo: a redis.Pool used the way its documentation shows, conn.Do
//     with the library's defaults — no read timeout, so a call waits for its
//     reply however late it is. No call times out, and the run is reported
//     as not exercised (exit 4): it says nothing about late replies.
//
//   - redigo-readtimeout: the same pool dialled with
//     redis.DialReadTimeout(the request deadline). Calls time out; redigo
//     marks the connection broken and the pool discards it (exit 0).
//
//   - redigo-broken: a deliberately broken pool, a reference for the
//     failure and NOT for use: after a timeout it wraps the same socket in a
//     new redis.Conn and puts it back without reading the late reply, which
//     the next request then reads (exit 1).
//
//     go build . && sudo ./redigo-live --server redis --client redigo-readtimeout
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/gomodule/redigo/redis"

	"github.com/stormproof/stormproof/live"
	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/model"
)

// The model variants the adapters declare (the library defaults, which
// never time out, claim none).
var discardOnTimeout, naivePool = model.DiscardOnTimeout, model.NaivePool

func main() {
	live.Main(
		cache.Adapter{Name: "redigo", Server: "redis", About: "github.com/gomodule/redigo redis.Pool, library defaults (no read timeout)",
			Open: func(o cache.Options) (cache.Client, cache.Settings, error) { return openPool(o, false) }},
		cache.Adapter{Name: "redigo-readtimeout", Server: "redis", About: "github.com/gomodule/redigo redis.Pool, DialReadTimeout = the request deadline",
			Open:    func(o cache.Options) (cache.Client, cache.Settings, error) { return openPool(o, true) },
			Behaves: &discardOnTimeout}, // redigo closes a connection whose read failed
		cache.Adapter{Name: "redigo-broken", Server: "redis", About: "redigo connections in a pool that keeps a connection after a timeout (NOT for use)",
			Open: openBroken, Behaves: &naivePool},
	)
}

// pooled is redigo's own redis.Pool.
type pooled struct{ p *redis.Pool }

func openPool(o cache.Options, readTimeout bool) (cache.Client, cache.Settings, error) {
	dial := []redis.DialOption{redis.DialPassword(o.Password), redis.DialConnectTimeout(o.DialTimeout)}
	s := cache.Settings{"MaxActive": o.PoolSize, "MaxIdle": o.PoolSize, "Wait": true,
		"DialConnectTimeout": o.DialTimeout.String(), "retries": "none (redigo has none)", "calls": "conn.Do (no context)"}
	if readTimeout {
		dial = append(dial, redis.DialReadTimeout(o.Timeout), redis.DialWriteTimeout(o.Timeout))
		s["DialReadTimeout"], s["DialWriteTimeout"] = o.Timeout.String(), o.Timeout.String()
	} else {
		s["DialReadTimeout"] = "0 (none: the library default)"
	}
	p := &redis.Pool{MaxIdle: o.PoolSize, MaxActive: o.PoolSize, Wait: true,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, "tcp", o.Addr, dial...)
		}}
	return &pooled{p}, s, nil
}

// conn takes a pooled connection; a call that got none never reached the
// server.
func (c *pooled) conn(ctx context.Context) (redis.Conn, error) {
	conn, err := c.p.GetContext(ctx)
	switch {
	case err == nil:
		return conn, nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolExhausted):
		return nil, fmt.Errorf("%w: %v", cache.ErrPoolExhausted, err)
	}
	return nil, fmt.Errorf("%w: %v", cache.ErrNotSent, err)
}

func (c *pooled) Get(ctx context.Context, key string) ([]byte, bool, error) {
	conn, err := c.conn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	return get(conn.Do("GET", key))
}

func (c *pooled) Set(ctx context.Context, key string, val []byte) error {
	conn, err := c.conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Do("SET", key, val)
	return err
}

func (c *pooled) Close() error { return c.p.Close() }

func get(reply any, err error) ([]byte, bool, error) {
	v, err := redis.Bytes(reply, err)
	if errors.Is(err, redis.ErrNil) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// broken keeps up to size connections; after a timeout it keeps the socket,
// with the late reply still on its way.
type broken struct {
	o    cache.Options
	idle chan *sock
	n    chan struct{} // one token per connection that may exist
	mu   sync.Mutex
	all  []*sock
}

type sock struct {
	nc net.Conn
	c  redis.Conn
}

func openBroken(o cache.Options) (cache.Client, cache.Settings, error) {
	b := &broken{o: o, idle: make(chan *sock, o.PoolSize), n: make(chan struct{}, o.PoolSize)}
	return b, cache.Settings{"PoolSize": o.PoolSize, "readTimeout": o.Timeout.String(),
		"on-timeout": "connection kept in the pool without reading the late reply (THE BUG)"}, nil
}

func (b *broken) take(ctx context.Context) (*sock, error) {
	select {
	case s := <-b.idle:
		return s, nil
	default:
	}
	select {
	case s := <-b.idle:
		return s, nil
	case b.n <- struct{}{}:
		d := net.Dialer{Timeout: b.o.DialTimeout}
		nc, err := d.DialContext(ctx, "tcp", b.o.Addr)
		if err != nil {
			<-b.n
			return nil, fmt.Errorf("%w: %v", cache.ErrNotSent, err)
		}
		c := redis.NewConn(keepOpen{nc}, b.o.Timeout, b.o.Timeout)
		if _, err := c.Do("AUTH", b.o.Password); err != nil {
			nc.Close()
			<-b.n
			return nil, fmt.Errorf("%w: %v", cache.ErrNotSent, err)
		}
		s := &sock{nc: nc, c: c}
		b.mu.Lock()
		b.all = append(b.all, s)
		b.mu.Unlock()
		return s, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", cache.ErrPoolExhausted, ctx.Err())
	}
}

// put returns s after a call that ended with err. A timeout makes redigo's
// Conn unusable, so the wrapper makes a new one over the same socket: the
// reply still in flight is then read by whichever request comes next.
func (b *broken) put(s *sock, err error) {
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, redis.ErrNil):
	case errors.As(err, &ne) && ne.Timeout():
		s.c = redis.NewConn(keepOpen{s.nc}, b.o.Timeout, b.o.Timeout) // THE BUG: no drain
	default:
		s.nc.Close()
		<-b.n
		return
	}
	b.idle <- s
}

// keepOpen is the socket as redigo sees it: redigo closes a connection on
// any error, and this wrapper's Close leaves it open for the pool to reuse.
type keepOpen struct{ net.Conn }

func (keepOpen) Close() error { return nil }

func (b *broken) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s, err := b.take(ctx)
	if err != nil {
		return nil, false, err
	}
	v, found, err := get(s.c.Do("GET", key))
	b.put(s, err)
	return v, found, err
}

func (b *broken) Set(ctx context.Context, key string, val []byte) error {
	s, err := b.take(ctx)
	if err != nil {
		return err
	}
	_, err = s.c.Do("SET", key, val)
	b.put(s, err)
	return err
}

func (b *broken) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.all {
		s.nc.Close()
	}
	return nil
}
