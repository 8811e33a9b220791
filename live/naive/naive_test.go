package naive

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRedis answers GET and SET in order on each connection, sleeping
// delay(cmd) before a reply: a slow server whose replies arrive late.
type fakeRedis struct {
	l     net.Listener
	mu    sync.Mutex
	data  map[string]string
	delay func(args []string) time.Duration
}

func newFake(t *testing.T, delay func([]string) time.Duration) *fakeRedis {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRedis{l: l, data: map[string]string{}, delay: delay}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	t.Cleanup(func() { l.Close() })
	return f
}

func (f *fakeRedis) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		time.Sleep(f.delay(args))
		f.mu.Lock()
		var out string
		switch strings.ToUpper(args[0]) {
		case "GET":
			if v, ok := f.data[args[1]]; ok {
				out = "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n"
			} else {
				out = "$-1\r\n"
			}
		case "SET":
			f.data[args[1]] = args[2]
			out = "+OK\r\n"
		default:
			out = "-ERR unknown command\r\n"
		}
		f.mu.Unlock()
		if _, err := c.Write([]byte(out)); err != nil {
			return
		}
	}
}

func readCommand(r *bufio.Reader) ([]string, error) {
	rep, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if len(rep) == 0 || rep[0] != '*' {
		return nil, ErrProtocol
	}
	n := 0
	for _, c := range rep[1:] {
		n = n*10 + int(c-'0')
	}
	var args []string
	for range n {
		v, err := readReply(r)
		if err != nil {
			return nil, err
		}
		args = append(args, string(v.bulk))
	}
	return args, nil
}

func timeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func TestRoundTrip(t *testing.T) {
	f := newFake(t, func([]string) time.Duration { return 0 })
	p := New(f.l.Addr().String(), Config{PoolSize: 2})
	defer p.Close()
	ctx, cancel := timeout(time.Second)
	defer cancel()
	if _, found, _, err := p.Get(ctx, "a"); err != nil || found {
		t.Fatalf("GET of a missing key: found=%v err=%v", found, err)
	}
	if _, err := p.Set(ctx, "a", []byte("va")); err != nil {
		t.Fatal(err)
	}
	v, found, info, err := p.Get(ctx, "a")
	if err != nil || !found || string(v) != "va" {
		t.Fatalf("GET a = %q %v %v", v, found, err)
	}
	if info.Of != info.Tok || info.OfKey != "a" {
		t.Fatalf("a clean read must read its own reply: %+v", info)
	}
}

// The bug on purpose: a GET that times out leaves its reply on the pooled
// connection, and the next GET (for another key) returns it.
func TestLateReplyIsReadByTheNextRequest(t *testing.T) {
	f := newFake(t, func(args []string) time.Duration {
		if args[0] == "GET" && args[1] == "a" {
			return 150 * time.Millisecond
		}
		return 0
	})
	f.data["a"], f.data["b"] = "value-of-a", "value-of-b"
	p := New(f.l.Addr().String(), Config{PoolSize: 1})
	defer p.Close()

	ctx, cancel := timeout(30 * time.Millisecond)
	deadline, _ := ctx.Deadline()
	_, _, first, err := p.Get(ctx, "a")
	cancel()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("GET a: want a timeout, got %v", err)
	}
	ctx, cancel = timeout(time.Second)
	defer cancel()
	v, found, second, err := p.Get(ctx, "b")
	if err != nil || !found {
		t.Fatalf("GET b: %v", err)
	}
	if string(v) != "value-of-a" {
		t.Fatalf("GET b returned %q: the naive pool should hand it a's late reply", v)
	}
	if second.Conn != first.Conn || second.Gen != first.Gen || second.Tok != first.Tok+1 {
		t.Fatalf("both requests should be on one connection, consecutively: %+v then %+v", first, second)
	}
	// After the first request's deadline (which started a moment before
	// it was sent, so Sent+30ms would be too strict under load).
	if first.Sent.IsZero() || !second.Sent.After(deadline) {
		t.Fatalf("send times %v and %v: the second request is written after the first timed out", first.Sent, second.Sent)
	}
	if second.Of != first.Tok || second.OfKey != "a" {
		t.Fatalf("ghost data should name request %d (key a) as the reply read: %+v", first.Tok, second)
	}
}

// A SET's "+OK" read by a GET is garbage even to this client: it closes the
// connection, and the next request dials a new generation.
func TestTypeMismatchClosesTheConnection(t *testing.T) {
	f := newFake(t, func(args []string) time.Duration {
		if args[0] == "SET" {
			return 150 * time.Millisecond
		}
		return 0
	})
	var closed []uint32
	p := New(f.l.Addr().String(), Config{PoolSize: 1, OnClose: func(c int, gen uint32, why error) {
		if !errors.Is(why, ErrTypeMismatch) {
			t.Errorf("closed for %v, want a type mismatch", why)
		}
		closed = append(closed, gen)
	}})
	defer p.Close()
	ctx, cancel := timeout(30 * time.Millisecond)
	p.Set(ctx, "a", []byte("x"))
	cancel()
	ctx, cancel = timeout(time.Second)
	defer cancel()
	if _, _, _, err := p.Get(ctx, "b"); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("GET b after a timed-out SET: %v, want ErrTypeMismatch", err)
	}
	if len(closed) != 1 || closed[0] != 0 {
		t.Fatalf("closes: %v, want generation 0 closed once", closed)
	}
	_, found, info, err := p.Get(ctx, "a")
	if err != nil || !found || info.Gen != 1 || info.Tok != 1 {
		t.Fatalf("next request: found=%v info=%+v err=%v, want generation 1, token 1", found, info, err)
	}
}

func TestPoolTimeout(t *testing.T) {
	f := newFake(t, func([]string) time.Duration { return 200 * time.Millisecond })
	p := New(f.l.Addr().String(), Config{PoolSize: 1})
	defer p.Close()
	go func() {
		ctx, cancel := timeout(time.Second)
		defer cancel()
		p.Get(ctx, "slow")
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := timeout(30 * time.Millisecond)
	defer cancel()
	if _, _, info, err := p.Get(ctx, "x"); !errors.Is(err, ErrPoolTimeout) || info.Conn != -1 {
		t.Fatalf("got info %+v err %v, want ErrPoolTimeout and Conn -1", info, err)
	}
}
