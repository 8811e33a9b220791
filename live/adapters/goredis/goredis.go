// Package goredis is stormproof live's adapter for github.com/redis/go-redis/v9.
// It is a module of its own, so a program that tests another client does
// not depend on go-redis. Pass Adapter to live.Main.
package goredis

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/model"
)

// Adapter opens a go-redis v9 client with retries disabled.
// It behaves as the model's discard-on-timeout: go-redis v9 removes a
// connection whose read timed out from its pool (a "bad" connection).
var Adapter = cache.Adapter{Name: "go-redis", Server: "redis", About: "github.com/redis/go-redis/v9, retries disabled", Open: open,
	Behaves: &discardOnTimeout}

var discardOnTimeout = model.DiscardOnTimeout

type client struct{ c *redis.Client }

func open(o cache.Options) (cache.Client, cache.Settings, error) {
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
	s := cache.Settings{"MaxRetries": opt.MaxRetries, "PoolSize": opt.PoolSize, "DialTimeout": opt.DialTimeout.String(),
		"ReadTimeout": opt.ReadTimeout.String(), "WriteTimeout": opt.WriteTimeout.String(),
		"PoolTimeout": opt.PoolTimeout.String(), "ContextTimeoutEnabled": true, "Protocol": opt.Protocol}
	return &client{redis.NewClient(opt)}, s, nil
}

func (g *client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := g.c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if errors.Is(err, redis.ErrPoolTimeout) {
		return nil, false, fmt.Errorf("%w: %v", cache.ErrPoolExhausted, err)
	}
	return v, err == nil, err
}

func (g *client) Set(ctx context.Context, key string, val []byte) error {
	err := g.c.Set(ctx, key, val, 0).Err()
	if errors.Is(err, redis.ErrPoolTimeout) {
		return fmt.Errorf("%w: %v", cache.ErrPoolExhausted, err)
	}
	return err
}

func (g *client) Close() error { return g.c.Close() }
