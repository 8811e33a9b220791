// Package rueidis is stormproof live's adapter for github.com/redis/rueidis.
// It is a module of its own, so a program that tests another client does
// not depend on rueidis. Pass Adapter to live.Main.
package rueidis

import (
	"context"
	"net"

	"github.com/redis/rueidis"

	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/model"
)

// Adapter opens a rueidis client with retries and client-side caching
// disabled.
// It behaves as the model's tagged client: rueidis pipelines requests
// on a connection and hands each reply to the request it answers (by
// order), so a late reply never reaches another caller.
var Adapter = cache.Adapter{Name: "rueidis", Server: "redis", About: "github.com/redis/rueidis, retries and client-side caching disabled", Open: open,
	Behaves: &tagged}

var tagged = model.Tagged

type client struct{ c rueidis.Client }

func open(o cache.Options) (cache.Client, cache.Settings, error) {
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
	s := cache.Settings{"DisableRetry": true, "DisableCache": true, "ForceSingleClient": true,
		"Dialer.Timeout": o.DialTimeout.String(), "BlockingPoolSize": o.PoolSize,
		"PipelineMultiplex": opt.PipelineMultiplex, "ConnWriteTimeout": "default (10s)",
		"deadline": "per call, from the context"}
	return &client{c}, s, nil
}

func (r *client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.c.Do(ctx, r.c.B().Get().Key(key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (r *client) Set(ctx context.Context, key string, val []byte) error {
	return r.c.Do(ctx, r.c.B().Set().Key(key).Value(rueidis.BinaryString(val)).Build()).Error()
}

func (r *client) Close() error {
	r.c.Close()
	return nil
}
