// Package cache is the small interface stormproof live drives a cache
// client through, and the adapter of the deliberately naive pooled RESP
// client of package live/naive (a reference for the failure). The adapters
// for client libraries live in modules of their own under live/adapters
// (go-redis v9, rueidis, gomemcache), so a program imports only the
// libraries it tests.
//
// To test your own client, implement Client, describe it with an Adapter
// and pass it to live.Main (see docs/live.md, "Test your own cache
// client").
package cache

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stormproof/stormproof/model"
)

// Client is a cache client under test. ctx carries the request's deadline;
// a call that misses it must return an error (the harness records its
// result as unknown). Implementations must be safe for concurrent use.
type Client interface {
	// Get returns the value stored under key; found is false on a miss.
	Get(ctx context.Context, key string) (val []byte, found bool, err error)
	// Set stores val under key.
	Set(ctx context.Context, key string, val []byte) error
	// Close releases the client's connections.
	Close() error
}

// Options are what the harness asks of every client.
type Options struct {
	// Addr is the server's host:port.
	Addr string
	// PoolSize is the number of pooled connections (where the library has
	// a pool).
	PoolSize int
	// Timeout is the per-request deadline; the harness also puts it on ctx.
	Timeout time.Duration
	// DialTimeout bounds a connection attempt.
	DialTimeout time.Duration
	// OnClose, for clients that can say, reports a connection closed by the
	// client and why (written to the trace as cache-close).
	OnClose func(conn int, gen uint32, why error)
	// User and Password authenticate every connection (server.Server's).
	User, Password string
}

// Settings are the client settings that change semantics (retries,
// timeouts, pooling), written into the trace header so a reader knows what
// was tested. Keys are the library's option names.
type Settings map[string]any

// Adapter opens one client library against one kind of server.
type Adapter struct {
	// Name is what --client takes.
	Name string
	// Server is the server kind it speaks to: "redis" or "memcached".
	Server string
	// About is one line for the help text.
	About string
	// Open connects a client with o and returns the semantic settings used.
	Open func(o Options) (Client, Settings, error)
	// Behaves names the model's cache-client variant the library is meant
	// to behave as (model.ClientBehaviour), or nil when the adapter claims
	// none. The claim is tested: livetest runs the library under the test
	// storm and the simulator runs the variant in the same scenario, and
	// the verdicts must agree (leaks, or holds).
	Behaves *model.ClientVariant
}

var (
	mu       sync.Mutex
	adapters = map[string]Adapter{}
)

// Register adds an adapter; a second one with the same name panics (a
// programming error, found at init).
func Register(a Adapter) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := adapters[a.Name]; dup {
		panic("cache: adapter " + a.Name + " registered twice")
	}
	adapters[a.Name] = a
}

// Add registers a; adding the same adapter again does nothing, and another
// adapter under a registered name is an error.
func Add(a Adapter) error {
	mu.Lock()
	defer mu.Unlock()
	if a.Name == "" || a.Open == nil {
		return fmt.Errorf("cache: an adapter needs a Name and an Open function")
	}
	if old, dup := adapters[a.Name]; dup {
		if old.Server == a.Server && reflect.ValueOf(old.Open).Pointer() == reflect.ValueOf(a.Open).Pointer() {
			return nil
		}
		return fmt.Errorf("cache: two adapters are named %q", a.Name)
	}
	adapters[a.Name] = a
	return nil
}

// Names lists the registered adapters, sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for n := range adapters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns the registered adapters, sorted by name.
func All() []Adapter {
	var out []Adapter
	for _, n := range Names() {
		mu.Lock()
		out = append(out, adapters[n])
		mu.Unlock()
	}
	return out
}

// Lookup finds an adapter for a server kind.
func Lookup(name, server string) (Adapter, error) {
	mu.Lock()
	a, ok := adapters[name]
	mu.Unlock()
	if !ok {
		return Adapter{}, fmt.Errorf("unknown client %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	if a.Server != server {
		var fit []string
		for _, n := range Names() {
			if adapters[n].Server == server {
				fit = append(fit, n)
			}
		}
		return Adapter{}, fmt.Errorf("client %q speaks to %s, not %s (for %s: %s)", name, a.Server, server, server, strings.Join(fit, ", "))
	}
	return a, nil
}

// Wire is what a client that knows may say about the connection a call
// used. Only the naive reference client fills it; for the libraries the
// harness numbers calls by the calling lane instead.
type Wire struct {
	Known bool
	// Conn is the pooled connection's index (-1: none became free), Gen its
	// generation, Tok the request's number on it.
	Conn     int
	Gen, Tok uint32
	// Of and OfKey name the request whose reply the call read (ghost data).
	Of    uint32
	OfKey string
	// PoolExhausted: the call never got a connection.
	PoolExhausted bool
	// Sent is when the request was written, after any wait for a pooled
	// connection (zero: unknown, or never sent).
	Sent time.Time
}

type wireKey struct{}

// WithWire returns ctx carrying w for the client to fill.
func WithWire(ctx context.Context, w *Wire) context.Context {
	return context.WithValue(ctx, wireKey{}, w)
}

// WireOf returns the Wire a call should fill, or nil.
func WireOf(ctx context.Context) *Wire {
	w, _ := ctx.Value(wireKey{}).(*Wire)
	return w
}

// ErrTypeMismatch marks a reply of the wrong type for the command (a
// client reading another request's reply may notice it).
var ErrTypeMismatch = errors.New("reply of the wrong type")

// ErrPoolExhausted marks a call that never got a connection.
var ErrPoolExhausted = errors.New("no free connection before the deadline")

// ErrNotSent marks a call whose request was never written (its connection
// could not be made). A *net.OpError from a dial means the same.
var ErrNotSent = errors.New("request not sent: no connection")
