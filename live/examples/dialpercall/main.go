// Command dialpercall is the complete example of docs/live.md, "Test your
// own cache client": a cache client of its own behind stormproof's adapter
// interface, run by live.Main — the reconnect storm against a real
// redis-server under the eBPF outage schedule, judged, with every flag of
// stormproof live.
//
// The client here opens a new connection for every request and closes it
// afterwards: slow, but a late reply can never reach another request. Put
// your own client in its place.
//
//	go build ./live/examples/dialpercall && sudo ./dialpercall --server redis --client dial-per-call
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/live"
	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/server"
)

// dialPerCall is the client under test: it implements cache.Client.
type dialPerCall struct {
	addr, password string
	d              net.Dialer
}

// do sends one RESP command on a fresh connection and reads one reply.
func (c *dialPerCall) do(ctx context.Context, args ...string) (kind byte, payload []byte, err error) {
	conn, err := c.d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	r := bufio.NewReader(conn) // the harness's server answers only clients that know its password:
	if err := server.Authenticate(server.Redis, "", c.password, conn, r); err != nil {
		return 0, nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return 0, nil, err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return 0, nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+', '-':
		return line[0], []byte(line[1:]), nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return '$', nil, err // $-1: nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0, nil, err
		}
		return '$', buf[:n], nil
	}
	return 0, nil, fmt.Errorf("unexpected reply %q", line)
}

func (c *dialPerCall) Get(ctx context.Context, key string) ([]byte, bool, error) {
	kind, v, err := c.do(ctx, "GET", key)
	switch {
	case err != nil:
		return nil, false, err
	case kind != '$':
		return nil, false, fmt.Errorf("GET %s: %s", key, v)
	}
	return v, v != nil, nil
}

func (c *dialPerCall) Set(ctx context.Context, key string, val []byte) error {
	kind, v, err := c.do(ctx, "SET", key, string(val))
	if err == nil && kind != '+' {
		err = fmt.Errorf("SET %s: %s", key, v)
	}
	return err
}

func (c *dialPerCall) Close() error { return nil }

// adapter tells stormproof how to open the client and which of its
// settings change what a call means (they go into the trace header).
var adapter = cache.Adapter{
	Name:   "dial-per-call",
	Server: "redis",
	About:  "one connection per request (docs/live.md example)",
	Open: func(o cache.Options) (cache.Client, cache.Settings, error) {
		c := &dialPerCall{addr: o.Addr, password: o.Password, d: net.Dialer{Timeout: o.DialTimeout}}
		return c, cache.Settings{"pool": "none: a new connection per request",
			"deadline": "per call, from the context", "retries": "none"}, nil
	},
}

// main is stormproof live with this client beside the naive reference:
// every flag, the report, the renders of a violation and the exit status.
func main() { live.Main(adapter) }
