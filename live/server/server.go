// Package server starts the real cache servers stormproof live tests
// against: redis-server and memcached from PATH, each on a loopback port it
// picks, always stopped again (and killed with the harness if it dies).
package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind is a cache server program.
type Kind string

const (
	Redis     Kind = "redis"
	Memcached Kind = "memcached"
)

// Kinds lists the servers live can start.
func Kinds() []Kind { return []Kind{Redis, Memcached} }

// ParseKind parses a server name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown server %q (want redis or memcached)", s)
}

// Binary is the program a kind runs.
func (k Kind) Binary() string {
	if k == Memcached {
		return "memcached"
	}
	return "redis-server"
}

// MissingError says a server program is not on PATH and how to install it.
type MissingError struct{ Kind Kind }

func (e *MissingError) Error() string {
	pkg := "redis-server"
	if e.Kind == Memcached {
		pkg = "memcached"
	}
	return fmt.Sprintf("%s not found on PATH: install it (Debian/Ubuntu: apt-get install -y %s; macOS: brew install %s)",
		e.Kind.Binary(), pkg, strings.TrimSuffix(pkg, "-server"))
}

// Server is a running cache server.
type Server struct {
	Kind Kind
	// Addr is host:port on 127.0.0.1.
	Addr string
	Port int
	// Version is what the program says of itself ("redis-server v=7.0.15").
	Version string

	cmd  *exec.Cmd
	log  *tailBuffer
	done chan struct{}
	once sync.Once
	err  error
}

// Start finds the program on PATH, starts it on a free loopback port and
// waits until it answers. The server dies with this process even if it is
// killed (Pdeathsig), and Stop ends it on every other exit path.
func Start(ctx context.Context, k Kind) (*Server, error) {
	bin, err := exec.LookPath(k.Binary())
	if err != nil {
		return nil, &MissingError{Kind: k}
	}
	var lastErr error
	// A port picked by listening on :0 may be taken again before the server
	// binds it; a few tries make that race harmless.
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, k, bin, port)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot pick a loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func args(k Kind, port int) []string {
	p := strconv.Itoa(port)
	if k == Memcached {
		a := []string{"-l", "127.0.0.1", "-p", p, "-U", "0", "-t", "2", "-c", "4096", "-m", "64"}
		if os.Geteuid() == 0 {
			// memcached refuses to run as root without naming the user.
			name := "root"
			if u, err := user.Current(); err == nil {
				name = u.Username
			}
			a = append(a, "-u", name)
		}
		return a
	}
	// No persistence: each run starts from an empty cache and leaves no files.
	return []string{"--bind", "127.0.0.1", "--port", p, "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning", "--dir", os.TempDir()}
}

func start(ctx context.Context, k Kind, bin string, port int) (*Server, error) {
	s := &Server{Kind: k, Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		log: &tailBuffer{max: 4096}, done: make(chan struct{})}
	s.Version = version(bin, k)
	s.cmd = exec.Command(bin, args(k, port)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", k.Binary(), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := s.ping(); err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited at start: %v: %s", k.Binary(), s.err, s.log.oneLine())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s did not answer on %s within 5 s: %s", k.Binary(), s.Addr, s.log.oneLine())
		}
	}
}

// ping asks the server a trivial question on a new connection.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp4", s.Addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	q, want := "PING\r\n", "+PONG"
	if s.Kind == Memcached {
		q, want = "version\r\n", "VERSION"
	}
	if _, err := c.Write([]byte(q)); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, want) {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 2 s) and waits for it.
// It is safe to call more than once.
func (s *Server) Stop() error {
	s.once.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(2 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return nil
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Exited reports whether the server has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func version(bin string, k Kind) string {
	flag := "--version"
	if k == Memcached {
		flag = "-V"
	}
	out, err := exec.Command(bin, flag).Output()
	if err != nil {
		return k.Binary()
	}
	v := strings.TrimSpace(string(out))
	if f := strings.Fields(v); k == Redis && len(f) >= 3 {
		v = f[0] + " " + f[2] // "Redis server v=7.0.15 ..." → "Redis v=7.0.15"
	}
	return v
}

// tailBuffer keeps the last bytes a server printed, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) oneLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(t.b), []byte("\n"))
	if len(lines) == 0 || len(lines[len(lines)-1]) == 0 {
		return "no output"
	}
	return string(bytes.TrimSpace(lines[len(lines)-1]))
}

// ErrMissing reports whether err is a MissingError.
func ErrMissing(err error) bool {
	var m *MissingError
	return errors.As(err, &m)
}
