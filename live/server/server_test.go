package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
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

// A server under test answers only a client that knows its password, runs
// as an unprivileged user when started by root, keeps its files in a
// private directory, and leaves nothing behind.
func TestServerIsOursAlone(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			need(t, k)
			s, err := Start(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			// Without the password: refused, the cache not read.
			c, err := net.DialTimeout("tcp4", s.Addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(2 * time.Second))
			q := "GET k\r\n"
			if k == Memcached {
				q = "get k\r\n"
			}
			c.Write([]byte(q))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if !strings.Contains(line, "NOAUTH") && !strings.Contains(line, "unauthenticated") && !strings.HasPrefix(line, "CLIENT_ERROR") {
				t.Errorf("a client without the password got %q", line)
			}
			// With a wrong one: refused.
			c, err = net.DialTimeout("tcp4", s.Addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(2 * time.Second))
			if err := Authenticate(k, s.User, s.Password+"x", c, bufio.NewReader(c)); err == nil {
				t.Error("a wrong password was accepted")
			}
			c.Close()
			// Private directory; unprivileged process when we are root.
			st, err := os.Stat(s.Dir)
			if err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("directory %s: %v, mode %v; want 0700", s.Dir, err, st.Mode())
			}
			if os.Geteuid() == 0 {
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Split(string(b), "\n") {
					if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" && f[1] == "0" {
						t.Errorf("%s runs as root: %s", k.Binary(), l)
					}
				}
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", s.Pid())); err == nil && strings.Contains(string(b), s.Password) {
				t.Error("the password is on the server's command line")
			}
			dir := s.Dir
			s.Stop()
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s survived Stop: %v", dir, err)
			}
		})
	}
}
