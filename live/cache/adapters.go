package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stormproof/stormproof/live/naive"
	"github.com/stormproof/stormproof/live/server"
	"github.com/stormproof/stormproof/model"
)

func init() {
	Register(Naive)
}

// naive (reference for the failure) -----------------------------------------

// Naive is the deliberately broken pooled RESP client of package live/naive,
// the reference for the failure. It is always registered: it needs no
// library.
var Naive = Adapter{Name: "naive", Server: "redis", About: "deliberately broken pooled RESP client (reference for the failure, NOT for use)", Open: openNaive,
	Behaves: variant(model.NaivePool)}

// variant is a pointer to a copy of v, for Adapter.Behaves.
func variant(v model.ClientVariant) *model.ClientVariant { return &v }

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
