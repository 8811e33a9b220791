package server

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func need(t *testing.T, k Kind) {
	t.Helper()
	if _, err := exec.LookPath(k.Binary()); err != nil {
		t.Skipf("%s not on PATH (apt-get install -y %s); CI installs it", k.Binary(), k.Binary())
	}
}

func TestStartStop(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			need(t, k)
			s, err := Start(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			if s.Port <= 0 || !strings.HasPrefix(s.Addr, "127.0.0.1:") {
				t.Fatalf("address %q port %d: want a loopback port", s.Addr, s.Port)
			}
			if err := s.ping(); err != nil {
				t.Fatalf("server does not answer: %v", err)
			}
			pid := s.Pid()
			s.Stop()
			s.Stop() // idempotent
			if !s.Exited() {
				t.Fatal("server still running after Stop")
			}
			if err := syscall.Kill(pid, 0); err == nil {
				t.Fatalf("process %d still exists", pid)
			}
			if c, err := net.DialTimeout("tcp4", s.Addr, 200*time.Millisecond); err == nil {
				c.Close()
				t.Fatalf("%s still accepts connections after Stop", s.Addr)
			}
		})
	}
}

func TestTwoServersGetDistinctPorts(t *testing.T) {
	need(t, Redis)
	a, err := Start(context.Background(), Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	b, err := Start(context.Background(), Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	if a.Port == b.Port {
		t.Fatalf("both servers on port %d", a.Port)
	}
}

func TestMissingProgramSaysHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, k := range Kinds() {
		_, err := Start(context.Background(), k)
		if !ErrMissing(err) {
			t.Fatalf("%s: got %v, want a MissingError", k, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install -y") || !strings.Contains(msg, k.Binary()) {
			t.Fatalf("%s: message %q should be one line naming the program and how to install it", k, msg)
		}
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"redis", "memcached"} {
		if k, err := ParseKind(s); err != nil || string(k) != s {
			t.Fatalf("ParseKind(%q) = %q, %v", s, k, err)
		}
	}
	if _, err := ParseKind("valkey"); err == nil || !strings.Contains(err.Error(), "redis or memcached") {
		t.Fatalf("ParseKind(valkey): %v", err)
	}
}
