package faults

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("1s-1.25s, 2s-4s@0.2")
	if err != nil {
		t.Fatal(err)
	}
	want := Schedule{{time.Second, 1250 * time.Millisecond, 1}, {2 * time.Second, 4 * time.Second, 0.2}}
	if !slices.Equal(s, want) {
		t.Fatalf("got %v, want %v", s, want)
	}
	if got := s.String(); got != "1s-1.25s,2s-4s@0.2" {
		t.Fatalf("String() = %q", got)
	}
	if again, err := ParseSchedule(s.String()); err != nil || !slices.Equal(again, s) {
		t.Fatalf("round trip: %v %v", again, err)
	}
	if s, err := ParseSchedule("none"); err != nil || s != nil || s.String() != "none" {
		t.Fatalf("none: %v %v", s, err)
	}
	for _, bad := range []string{"1s", "2s-1s", "1s-2s@0", "1s-2s@1.5", "1s-3s,2s-4s", "x-1s", "1s-2s@p"} {
		_, err := ParseSchedule(bad)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: want a one-line error, got %v", bad, err)
		}
	}
	var many []string
	for i := range MaxWindows + 1 {
		many = append(many, fmt.Sprintf("%ds-%ds", 2*i, 2*i+1))
	}
	if _, err := ParseSchedule(strings.Join(many, ",")); err == nil {
		t.Error("more windows than the map holds were accepted")
	}
}

func TestStormFitsItsSpan(t *testing.T) {
	at, span := 10*time.Second, 8*time.Second
	s := Storm(at, span)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s) < 2 || s[0].From != at || s[len(s)-1].To > at+span {
		t.Fatalf("storm schedule %v does not start at %v and stay within %v", s, at, span)
	}
	if short := Storm(at, 100*time.Millisecond); len(short) != 0 {
		t.Fatalf("a span shorter than one window should get none, got %v", short)
	}
}

func needBPF(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("%v; CI runs these tests as root", err)
	}
}

// packet builds an Ethernet+IPv4+TCP (or UDP) header to dport.
func packet(proto byte, dport uint16, v6 bool) []byte {
	b := make([]byte, 14+20+20)
	if v6 {
		binary.BigEndian.PutUint16(b[12:], 0x86dd)
		return b
	}
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	b[14] = 0x45
	b[23] = proto
	binary.BigEndian.PutUint16(b[34:], 40000)
	binary.BigEndian.PutUint16(b[36:], dport)
	return b
}

func run(t *testing.T, p *ebpf.Program, pkt []byte) int32 {
	t.Helper()
	ret, err := p.Run(&ebpf.RunOptions{Data: pkt})
	if err != nil {
		t.Fatal(err)
	}
	return int32(ret)
}

// The program's logic, run with BPF_PROG_TEST_RUN without attaching it.
func TestProgramDropsOnlyPacketsToThePortInAWindow(t *testing.T) {
	needBPF(t)
	d, err := load(6379)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	toPort := packet(6, 6379, false)
	if got := run(t, d.prog, toPort); got != tcxNext {
		t.Fatalf("no schedule: got %d, want pass", got)
	}
	now := Monotonic()
	if err := d.Arm(now, Schedule{{From: 0, To: time.Hour, P: 1}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		pkt  []byte
		want int32
	}{
		{"tcp to the port", toPort, tcxDrop},
		{"tcp to another port", packet(6, 6380, false), tcxNext},
		{"udp to the port", packet(17, 6379, false), tcxNext},
		{"ipv6", packet(6, 6379, true), tcxNext},
		{"runt", toPort[:36], tcxNext},
	}
	for _, c := range cases {
		if got := run(t, d.prog, c.pkt); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
	seen, dropped := d.Stats()
	if seen != 2 || dropped != 1 {
		t.Errorf("stats: seen %d dropped %d, want 2 and 1", seen, dropped)
	}
	// A window in the past, then one in the future: nothing is dropped.
	if err := d.Arm(now-uint64(2*time.Hour), Schedule{{From: 0, To: time.Hour, P: 1}, {From: 3 * time.Hour, To: 4 * time.Hour, P: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := run(t, d.prog, toPort); got != tcxNext {
		t.Errorf("between windows: got %d, want pass", got)
	}
	// A loss burst drops about its share.
	if err := d.Arm(Monotonic(), Schedule{{From: 0, To: time.Hour, P: 0.5}}); err != nil {
		t.Fatal(err)
	}
	drops := 0
	for range 1000 {
		if run(t, d.prog, toPort) == tcxDrop {
			drops++
		}
	}
	if drops < 400 || drops > 600 {
		t.Errorf("a 50%% loss burst dropped %d of 1000", drops)
	}
}

// The measurable effect on real sockets: during an outage window a dial to
// the port times out; after it, the dial succeeds and a request sent in
// the window is answered late.
func TestOutageWindowOnRealSockets(t *testing.T) {
	needBPF(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c) // echo
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	d, err := Attach(port)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	echo, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()

	window := 600 * time.Millisecond
	base := Monotonic()
	start := time.Now()
	if err := d.Arm(base, Schedule{{From: 0, To: window, P: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := echo.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp4", l.Addr().String(), 200*time.Millisecond)
	var ne net.Error
	if err == nil {
		c.Close()
		t.Fatal("a dial during the outage window succeeded")
	} else if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial during the window: %v, want a timeout", err)
	}
	echo.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(echo).ReadString('\n')
	late := time.Since(start)
	if err != nil || line != "ping\n" {
		t.Fatalf("echo of a request sent in the window: %q %v", line, err)
	}
	if late < window {
		t.Fatalf("the reply came after %v, inside the %v window", late, window)
	}
	time.Sleep(time.Until(start.Add(window)))
	c, err = net.DialTimeout("tcp4", l.Addr().String(), time.Second)
	if err != nil {
		t.Fatalf("dial after the window: %v", err)
	}
	c.Close()
	seen, dropped := d.Stats()
	if dropped == 0 || seen <= dropped {
		t.Fatalf("stats: seen %d dropped %d", seen, dropped)
	}
	t.Logf("request sent in a %v window answered after %v; %d of %d packets dropped", window, late.Round(time.Millisecond), dropped, seen)
}

func TestCloseLeavesNothingAttached(t *testing.T) {
	needBPF(t)
	d, err := Attach(1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.ProgramID()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := AttachedTo()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, id) {
		t.Fatalf("program %d not among lo's TCX programs %v", id, ids)
	}
	d.Close()
	d.Close()
	if ids, _ := AttachedTo(); slices.Contains(ids, id) {
		t.Fatalf("program %d still attached after Close", id)
	}
}

// A process killed without any chance to clean up leaves no link: the
// link is an unpinned file descriptor, released by the kernel at exit.
func TestKilledProcessLeavesNothingAttached(t *testing.T) {
	if os.Getenv("STORMPROOF_FAULTS_CHILD") == "1" {
		d, err := Attach(2)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		id, _ := d.ProgramID()
		fmt.Println(id)
		time.Sleep(time.Minute)
		return
	}
	needBPF(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcessLeavesNothingAttached$")
		cmd.Env = append(os.Environ(), "STORMPROOF_FAULTS_CHILD=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		n, err := strconv.ParseUint(strings.TrimSpace(line), 10, 32)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child said %q", line)
		}
		id := ebpf.ProgramID(n)
		if ids, _ := AttachedTo(); !slices.Contains(ids, id) {
			t.Fatalf("child's program %d not attached", id)
		}
		cmd.Process.Signal(sig)
		cmd.Wait()
		if ids, _ := AttachedTo(); slices.Contains(ids, id) {
			t.Fatalf("program %d still attached after the child got %v", id, sig)
		}
	}
}
