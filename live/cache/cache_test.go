package cache

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stormproof/stormproof/live/server"
)

func startServer(t *testing.T, kind string) *server.Server {
	t.Helper()
	k, err := server.ParseKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath(k.Binary()); err != nil {
		t.Skipf("%s not on PATH (apt-get install -y %s); CI installs it", k.Binary(), k.Binary())
	}
	s, err := server.Start(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func TestLookupAndAdd(t *testing.T) {
	mc := Adapter{Name: "test-memcached", Server: "memcached", Open: func(Options) (Client, Settings, error) { return nil, nil, nil }}
	if err := Add(mc); err != nil {
		t.Fatal(err)
	}
	if err := Add(mc); err != nil {
		t.Fatalf("adding the same adapter twice: %v", err)
	}
	other := mc
	other.Open = func(Options) (Client, Settings, error) { return nil, Settings{}, nil }
	if err := Add(other); err == nil || !strings.Contains(err.Error(), "two adapters") {
		t.Fatalf("another adapter under a taken name: %v", err)
	}
	if _, err := Lookup("naive", "memcached"); err == nil || !strings.Contains(err.Error(), "test-memcached") {
		t.Fatalf("naive on memcached: %v (should name the memcached clients)", err)
	}
	if _, err := Lookup("nope", "redis"); err == nil || !strings.Contains(err.Error(), "naive") {
		t.Fatalf("unknown client: %v", err)
	}
	if _, err := Lookup("naive", "redis"); err != nil {
		t.Fatal(err)
	}
}

func TestWireIsFilledByTheNaiveClient(t *testing.T) {
	s := startServer(t, "redis")
	a, _ := Lookup("naive", "redis")
	c, _, err := a.Open(Options{Addr: s.Addr, User: s.User, Password: s.Password, PoolSize: 1, Timeout: time.Second, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var w Wire
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Set(WithWire(ctx, &w), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if !w.Known || w.Conn != 0 || w.Tok != 1 || w.Of != 1 || w.OfKey != "k" {
		t.Fatalf("wire after the first SET: %+v", w)
	}
}
