// Package server starts the real cache servers stormproof live tests
// against: redis-server and memcached from PATH, each on a loopback port it
// picks, always stopped again (and killed with the harness if it dies).
//
// A server under test is the harness's alone: it answers only clients that
// know a password drawn for this run (redis requirepass; memcached's ASCII
// authentication), its configuration and working files are in a private
// directory (mode 0700) removed when it stops, and started by root it runs
// as the unprivileged user nobody. Another local user can neither read nor
// change the cache during a run, so cannot change its verdict.
package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
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
	// User and Password authenticate a client (redis: the password only).
	User, Password string
	// Dir is the server's private working directory (removed by Stop).
	Dir string

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

// unprivileged is the account a server started by root runs as.
const unprivileged = "nobody"

// configure writes the server's configuration into its private directory
// (the password never appears on a command line, where ps shows it to
// every user) and returns the program's arguments.
func (s *Server) configure(port int) ([]string, error) {
	p := strconv.Itoa(port)
	if s.Kind == Memcached {
		auth := filepath.Join(s.Dir, "auth")
		if err := os.WriteFile(auth, []byte(s.User+":"+s.Password+"\n"), 0o600); err != nil {
			return nil, err
		}
		a := []string{"-l", "127.0.0.1", "-p", p, "-U", "0", "-t", "2", "-c", "4096", "-m", "64", "-Y", auth}
		if _, _, ok := dropTo(); !ok && os.Geteuid() == 0 {
			// No unprivileged account: memcached refuses root unless named.
			a = append(a, "-u", "root")
		}
		return a, nil
	}
	// No persistence: each run starts from an empty cache and leaves no files.
	conf := fmt.Sprintf("bind 127.0.0.1\nport %s\nrequirepass %s\nsave \"\"\nappendonly no\nprotected-mode yes\n"+
		"daemonize no\nloglevel warning\ndir %s\n", p, s.Password, s.Dir)
	path := filepath.Join(s.Dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// dropTo is the uid and gid of the unprivileged account, when this process
// is root and the account exists.
func dropTo() (uid, gid int, ok bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup(unprivileged)
	if err != nil {
		return 0, 0, false
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	return uid, gid, err1 == nil && err2 == nil
}

func secret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func start(ctx context.Context, k Kind, bin string, port int) (s *Server, err error) {
	s = &Server{Kind: k, Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		log: &tailBuffer{max: 4096}, done: make(chan struct{}), User: "stormproof"}
	if s.Password, err = secret(); err != nil {
		return nil, err
	}
	if s.Dir, err = os.MkdirTemp("", "stormproof-"+string(k)+"-*"); err != nil { // mode 0700
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(s.Dir)
		}
	}()
	s.Version = version(bin, k)
	a, err := s.configure(port)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, a...)
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if uid, gid, ok := dropTo(); ok {
		// The private directory becomes the unprivileged account's: still
		// closed to every other user.
		if err := filepath.WalkDir(s.Dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		}); err != nil {
			return nil, err
		}
		// Started as the account (not dropping to it itself, which would
		// clear Pdeathsig): the server still dies with the harness.
		s.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
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
	r := bufio.NewReader(c)
	if err := s.Authenticate(c, r); err != nil {
		return err
	}
	q, want := "PING\r\n", "+PONG"
	if s.Kind == Memcached {
		q, want = "version\r\n", "VERSION"
	}
	if _, err := c.Write([]byte(q)); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, want) {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}

// Authenticate proves the client knows the password on a new connection:
// redis AUTH, or memcached's ASCII authentication (a set whose data is
// "user password").
func (s *Server) Authenticate(w io.Writer, r *bufio.Reader) error {
	return Authenticate(s.Kind, s.User, s.Password, w, r)
}

// Authenticate is Server.Authenticate for a client that knows the kind and
// the credentials.
func Authenticate(k Kind, user, password string, w io.Writer, r *bufio.Reader) error {
	q, want := "AUTH "+password+"\r\n", "+OK"
	if k == Memcached {
		data := user + " " + password
		q, want = fmt.Sprintf("set auth 0 0 %d\r\n%s\r\n", len(data), data), "STORED"
	}
	if _, err := io.WriteString(w, q); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, want) {
		return fmt.Errorf("authentication refused: %q", strings.TrimSpace(line))
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
		os.RemoveAll(s.Dir)
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

// Conns are the server's own counts of client connections: accepted since
// it started, and open now.
type Conns struct{ Accepted, Open int64 }

// Connections asks the server for its connection counts on a connection of
// its own (which counts in both).
func (s *Server) Connections() (Conns, error) {
	c, err := net.DialTimeout("tcp4", s.Addr, time.Second)
	if err != nil {
		return Conns{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	if err := s.Authenticate(c, r); err != nil {
		return Conns{}, err
	}
	q, accepted, open, end := "INFO\r\n", "total_connections_received:", "connected_clients:", ""
	if s.Kind == Memcached {
		q, accepted, open, end = "stats\r\n", "STAT total_connections ", "STAT curr_connections ", "END"
	}
	if _, err := io.WriteString(c, q); err != nil {
		return Conns{}, err
	}
	var n Conns
	var seen int
	if s.Kind == Redis {
		// A bulk string: $<len>, then the lines of INFO.
		line, err := r.ReadString('\n')
		if err != nil {
			return Conns{}, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil {
			return Conns{}, fmt.Errorf("INFO: unexpected answer %q", line)
		}
		body := make([]byte, size+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return Conns{}, err
		}
		r = bufio.NewReader(strings.NewReader(string(body)))
	}
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, accepted); ok {
			n.Accepted, _ = strconv.ParseInt(v, 10, 64)
			seen++
		}
		if v, ok := strings.CutPrefix(line, open); ok {
			n.Open, _ = strconv.ParseInt(v, 10, 64)
			seen++
		}
		if err != nil || (end != "" && line == end) {
			break
		}
	}
	if seen != 2 {
		return Conns{}, fmt.Errorf("%s: no connection counts in the server's statistics", s.Kind)
	}
	return n, nil
}
