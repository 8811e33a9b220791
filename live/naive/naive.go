// Package naive is a DELIBERATELY BROKEN pooled Redis (RESP) client. It is
// a reference for the failure stormproof hunts, kept so the harness can
// show that failure on a real server. Do not use it for anything else.
//
// Its one bug is the bug class behind the 2023 ChatGPT incident (redis-py,
// CVE-2023-28858) and go-redis #1140: when a request times out, the
// connection goes back to the pool with the reply still on its way, and
// nothing drains it. RESP carries no request id, so the next request on
// that connection reads the late reply as its own: GET b returns a's value.
//
// Everything else is ordinary: a fixed pool, per-request deadlines from the
// context, and a connection closed when a reply has the wrong type (even a
// naive client notices "+OK" where a bulk string belongs).
package naive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Config is the pool's configuration.
type Config struct {
	// PoolSize is the number of connections (each dialled on first use).
	PoolSize int
	// DialTimeout bounds a dial (also bounded by the request's deadline).
	DialTimeout time.Duration
	// Auth, if set, authenticates a new connection before its first request.
	Auth func(w io.Writer, r *bufio.Reader) error
	// OnClose, if set, is told when the pool closes a connection and why.
	OnClose func(conn int, gen uint32, why error)
}

// Info says which connection carried a request and, as ghost data only a
// test harness can know, whose reply the request actually read.
type Info struct {
	// Conn is the connection's index in the pool; -1 when no connection
	// became free before the deadline.
	Conn int
	// Gen counts the times connection Conn was (re)dialled.
	Gen uint32
	// Tok numbers the requests sent on Conn in generation Gen, from 1.
	Tok uint32
	// Of and OfKey name the request whose reply was read (0 if none was):
	// Of ≠ Tok is the bug.
	Of    uint32
	OfKey string
	// Sent is when the request was written (zero if it never was): the
	// wait for a free connection comes before it.
	Sent time.Time
}

// Errors the pool returns besides network errors.
var (
	ErrPoolTimeout  = errors.New("no free connection before the deadline")
	ErrTypeMismatch = errors.New("reply of the wrong type for the command")
	ErrProtocol     = errors.New("malformed reply")
	ErrClosed       = errors.New("pool closed")
)

// ServerError is an error reply ("-ERR ...").
type ServerError string

func (e ServerError) Error() string { return "server: " + string(e) }

// Pool is the broken pooled client.
type Pool struct {
	addr string
	cfg  Config
	idle chan *conn

	mu     sync.Mutex
	closed bool
}

type conn struct {
	idx int
	gen uint32
	nc  net.Conn
	r   *bufio.Reader
	buf []byte
	tok uint32
	// pending is ghost bookkeeping for the trace: the requests whose replies
	// have not been read yet, in the order RESP answers them.
	pending []sent
}

type sent struct {
	tok uint32
	key string
}

// New makes a pool for the server at addr. It dials nothing yet.
func New(addr string, cfg Config) *Pool {
	if cfg.PoolSize < 1 {
		cfg.PoolSize = 1
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = time.Second
	}
	p := &Pool{addr: addr, cfg: cfg, idle: make(chan *conn, cfg.PoolSize)}
	for i := range cfg.PoolSize {
		p.idle <- &conn{idx: i}
	}
	return p
}

// Get reads key. found is false on a miss.
func (p *Pool) Get(ctx context.Context, key string) (val []byte, found bool, info Info, err error) {
	r, info, err := p.do(ctx, key, 'g', "GET", key)
	if err != nil {
		return nil, false, info, err
	}
	return r.bulk, !r.null, info, nil
}

// Set writes key.
func (p *Pool) Set(ctx context.Context, key string, val []byte) (Info, error) {
	_, info, err := p.do(ctx, key, 's', "SET", key, string(val))
	return info, err
}

// Close closes every connection. It waits (up to 2 s) for requests in
// flight to hand their connections back.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	timeout := time.After(2 * time.Second)
	for range p.cfg.PoolSize {
		select {
		case c := <-p.idle:
			if c.nc != nil {
				c.nc.Close()
			}
		case <-timeout:
			return errors.New("naive: requests still in flight after 2 s")
		}
	}
	return nil
}

type reply struct {
	kind byte // '+', '-', ':', '$', '*'
	bulk []byte
	null bool
	line string
}

func (p *Pool) do(ctx context.Context, key string, op byte, args ...string) (reply, Info, error) {
	var c *conn
	select {
	case c = <-p.idle:
	case <-ctx.Done():
		return reply{}, Info{Conn: -1}, ErrPoolTimeout
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.idle <- c
		return reply{}, Info{Conn: -1}, ErrClosed
	}
	if c.nc == nil {
		if err := p.dial(ctx, c); err != nil {
			p.idle <- c
			return reply{}, Info{Conn: c.idx, Gen: c.gen}, err
		}
	}
	deadline, _ := ctx.Deadline() // zero: no deadline
	c.nc.SetDeadline(deadline)
	c.tok++
	info := Info{Conn: c.idx, Gen: c.gen, Tok: c.tok}
	c.buf = appendCommand(c.buf[:0], args...)
	info.Sent = time.Now()
	if _, err := c.nc.Write(c.buf); err != nil {
		// A half-written command would corrupt the stream for everyone.
		p.close(c, err)
		p.idle <- c
		return reply{}, info, err
	}
	c.pending = append(c.pending, sent{tok: c.tok, key: key})
	r, err := readReply(c.r)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// THE BUG: the reply is still coming, and the connection goes
			// back to the pool as if it were clean.
			p.idle <- c
			return reply{}, info, err
		}
		p.close(c, err)
		p.idle <- c
		return reply{}, info, err
	}
	if len(c.pending) > 0 {
		info.Of, info.OfKey = c.pending[0].tok, c.pending[0].key
		c.pending = c.pending[1:]
	}
	switch {
	case r.kind == '-':
		p.idle <- c
		return reply{}, info, ServerError(r.line)
	case op == 'g' && r.kind != '$', op == 's' && r.kind != '+':
		p.close(c, ErrTypeMismatch)
		p.idle <- c
		return reply{}, info, ErrTypeMismatch
	}
	p.idle <- c
	return r, info, nil
}

func (p *Pool) dial(ctx context.Context, c *conn) error {
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp4", p.addr)
	if err != nil {
		return err
	}
	r := bufio.NewReader(nc)
	if p.cfg.Auth != nil {
		if dl, ok := ctx.Deadline(); ok {
			nc.SetDeadline(dl)
		}
		err := p.cfg.Auth(nc, r)
		nc.SetDeadline(time.Time{})
		if err != nil {
			nc.Close()
			return err
		}
	}
	c.nc, c.r, c.tok, c.pending = nc, r, 0, nil
	return nil
}

// close drops c's socket; the next request on slot c dials a new generation.
func (p *Pool) close(c *conn, why error) {
	if c.nc == nil {
		return
	}
	c.nc.Close()
	if p.cfg.OnClose != nil {
		p.cfg.OnClose(c.idx, c.gen, why)
	}
	c.nc, c.r, c.pending = nil, nil, nil
	c.gen++
}

func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// readReply reads one RESP2 value (arrays are read whole and returned as
// their kind only: this client never asks for one).
func readReply(r *bufio.Reader) (reply, error) {
	line, err := readLine(r)
	if err != nil {
		return reply{}, err
	}
	if len(line) == 0 {
		return reply{}, ErrProtocol
	}
	rep := reply{kind: line[0], line: string(line[1:])}
	switch line[0] {
	case '+', '-', ':':
		return rep, nil
	case '$':
		n, err := strconv.Atoi(rep.line)
		if err != nil || n < -1 || n > 512<<20 {
			return reply{}, fmt.Errorf("%w: bulk length %q", ErrProtocol, rep.line)
		}
		if n == -1 {
			rep.null = true
			return rep, nil
		}
		rep.bulk = make([]byte, n+2)
		if _, err := io.ReadFull(r, rep.bulk); err != nil {
			return reply{}, err
		}
		if rep.bulk[n] != '\r' || rep.bulk[n+1] != '\n' {
			return reply{}, fmt.Errorf("%w: bulk not terminated", ErrProtocol)
		}
		rep.bulk = rep.bulk[:n]
		return rep, nil
	case '*':
		n, err := strconv.Atoi(rep.line)
		if err != nil || n > 1<<20 {
			return reply{}, fmt.Errorf("%w: array length %q", ErrProtocol, rep.line)
		}
		for range max(n, 0) {
			if _, err := readReply(r); err != nil {
				return reply{}, err
			}
		}
		return rep, nil
	}
	return reply{}, fmt.Errorf("%w: unexpected %q", ErrProtocol, line[0])
}

func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, fmt.Errorf("%w: line too long", ErrProtocol)
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line without CRLF", ErrProtocol)
	}
	return line[:len(line)-2], nil
}
