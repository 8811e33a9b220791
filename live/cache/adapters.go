package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/stormproof/stormproof/live/naive"
	"github.com/stormproof/stormproof/live/server"
)

func init() {
	Register(Adapter{Name: "go-redis", Server: "redis", About: "github.com/redis/go-redis/v9, retries disabled", Open: openGoRedis})
	Register(Adapter{Name: "rueidis", Server: "redis", About: "github.com/redis/rueidis, retries and client-side caching disabled", Open: openRueidis})
	Register(Adapter{Name: "gomemcache", Server: "memcached", About: "github.com/bradfitz/gomemcache", Open: openGomemcache})
	Register(Adapter{Name: "naive", Server: "redis", About: "deliberately broken pooled RESP client (reference for the failure, NOT for use)", Open: openNaive})
}

// go-redis v9 --------------------------------------------------------------

type goRedis struct{ c *redis.Client }

func openGoRedis(o Options) (Client, Settings, error) {
	opt := &redis.Options{
		Addr:     o.Addr,
		Password: o.Password,
		PoolSize: o.PoolSize,
		// go-redis retries a read timeout 3 times by default: a timed-out
		// SET could then apply twice. Retries off, every timeout is
		// recorded as a call whose result is unknown.
		MaxRetries:   -1,
		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.Timeout,
		WriteTimeout: o.Timeout,
		PoolTimeout:  o.Timeout,
		// The per-call context deadline is the harness's request deadline.
		ContextTimeoutEnabled: true,
		// CLIENT SETINFO is unknown to Redis < 7.2; it changes nothing here.
		DisableIdentity: true,
		Protocol:        3,
	}
	s := Settings{"MaxRetries": opt.MaxRetries, "PoolSize": opt.PoolSize, "DialTimeout": opt.DialTimeout.String(),
		"ReadTimeout": opt.ReadTimeout.String(), "WriteTimeout": opt.WriteTimeout.String(),
		"PoolTimeout": opt.PoolTimeout.String(), "ContextTimeoutEnabled": true, "Protocol": opt.Protocol}
	return &goRedis{redis.NewClient(opt)}, s, nil
}

func (g *goRedis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := g.c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if errors.Is(err, redis.ErrPoolTimeout) {
		return nil, false, fmt.Errorf("%w: %v", ErrPoolExhausted, err)
	}
	return v, err == nil, err
}

func (g *goRedis) Set(ctx context.Context, key string, val []byte) error {
	err := g.c.Set(ctx, key, val, 0).Err()
	if errors.Is(err, redis.ErrPoolTimeout) {
		return fmt.Errorf("%w: %v", ErrPoolExhausted, err)
	}
	return err
}

func (g *goRedis) Close() error { return g.c.Close() }

// rueidis ------------------------------------------------------------------

type rueidisClient struct{ c rueidis.Client }

func openRueidis(o Options) (Client, Settings, error) {
	opt := rueidis.ClientOption{
		InitAddress: []string{o.Addr},
		Password:    o.Password,
		// Retries of read-only commands on network errors are off: each
		// call is judged as it happened.
		DisableRetry: true,
		// Client-side caching would answer GETs without the server.
		DisableCache:      true,
		ForceSingleClient: true,
		Dialer:            net.Dialer{Timeout: o.DialTimeout},
		BlockingPoolSize:  o.PoolSize,
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, nil, err
	}
	s := Settings{"DisableRetry": true, "DisableCache": true, "ForceSingleClient": true,
		"Dialer.Timeout": o.DialTimeout.String(), "BlockingPoolSize": o.PoolSize,
		"PipelineMultiplex": opt.PipelineMultiplex, "ConnWriteTimeout": "default (10s)",
		"deadline": "per call, from the context"}
	return &rueidisClient{c}, s, nil
}

func (r *rueidisClient) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.c.Do(ctx, r.c.B().Get().Key(key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (r *rueidisClient) Set(ctx context.Context, key string, val []byte) error {
	return r.c.Do(ctx, r.c.B().Set().Key(key).Value(rueidis.BinaryString(val)).Build()).Error()
}

func (r *rueidisClient) Close() error {
	r.c.Close()
	return nil
}

// gomemcache ---------------------------------------------------------------

type gomemcacheClient struct{ c *memcache.Client }

func openGomemcache(o Options) (Client, Settings, error) {
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
	s := Settings{"Timeout": c.Timeout.String(), "MaxIdleConns": c.MaxIdleConns,
		"deadline": "socket timeout only (the library takes no context)"}
	return &gomemcacheClient{c}, s, nil
}

func (g *gomemcacheClient) Get(ctx context.Context, key string) ([]byte, bool, error) {
	it, err := g.c.Get(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, gomemcacheErr(err)
	}
	return it.Value, true, nil
}

func (g *gomemcacheClient) Set(ctx context.Context, key string, val []byte) error {
	return gomemcacheErr(g.c.Set(&memcache.Item{Key: key, Value: val}))
}

// gomemcacheErr marks a connect timeout (its error type is no net.Error)
// as a request that was never sent.
func gomemcacheErr(err error) error {
	var cte *memcache.ConnectTimeoutError
	if errors.As(err, &cte) {
		return fmt.Errorf("%w: %v", ErrNotSent, err)
	}
	return err
}

func (g *gomemcacheClient) Close() error { return g.c.Close() }

// naive (reference for the failure) -----------------------------------------

type naiveClient struct{ p *naive.Pool }

func openNaive(o Options) (Client, Settings, error) {
	cfg := naive.Config{PoolSize: o.PoolSize, DialTimeout: o.DialTimeout, OnClose: o.OnClose}
	if o.Password != "" {
		cfg.Auth = func(w io.Writer, r *bufio.Reader) error {
			return server.Authenticate(server.Redis, o.User, o.Password, w, r)
		}
	}
	p := naive.New(o.Addr, cfg)
	s := Settings{"PoolSize": o.PoolSize, "DialTimeout": o.DialTimeout.String(),
		"deadline":   "per call, from the context",
		"on-timeout": "connection returned to the pool without draining the late reply (THE BUG)"}
	return &naiveClient{p}, s, nil
}

func (n *naiveClient) fill(ctx context.Context, info naive.Info, err error) error {
	if w := WireOf(ctx); w != nil {
		*w = Wire{Known: true, Conn: info.Conn, Gen: info.Gen, Tok: info.Tok, Of: info.Of, OfKey: info.OfKey,
			PoolExhausted: info.Conn < 0, Sent: info.Sent}
	}
	switch {
	case errors.Is(err, naive.ErrTypeMismatch):
		return fmt.Errorf("%w: %v", ErrTypeMismatch, err)
	case errors.Is(err, naive.ErrPoolTimeout):
		return fmt.Errorf("%w: %v", ErrPoolExhausted, err)
	}
	return err
}

func (n *naiveClient) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, found, info, err := n.p.Get(ctx, key)
	return v, found, n.fill(ctx, info, err)
}

func (n *naiveClient) Set(ctx context.Context, key string, val []byte) error {
	info, err := n.p.Set(ctx, key, val)
	return n.fill(ctx, info, err)
}

func (n *naiveClient) Close() error { return n.p.Close() }
