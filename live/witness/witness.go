// Package witness watches a Go function from outside the program's own
// bookkeeping: a uprobe on the function's entry reads its integer arguments
// from the Go register ABI and streams them, with the kernel's clock,
// through a BPF ring buffer. stormproof live puts it on the service's
// delivery function, so a delivery the service did not record still shows.
//
// It never uses a uretprobe: Go moves goroutine stacks, and a return probe
// that rewrites a return address on a stack that later moves crashes the
// program. An entry probe on a //go:nosplit function fires exactly once per
// call (no stack-growth prologue re-enters it).
package witness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// regOffsets are the offsets in struct pt_regs (amd64) of the registers the
// Go ABI passes integer arguments in, in order: RAX, RBX, RCX, RDI, RSI,
// R8, R9, R10, R11.
var regOffsets = [...]int16{80, 40, 88, 112, 104, 72, 64, 56, 48}

// MaxArgs is how many arguments one event carries.
const MaxArgs = 4

// recordSize is one ring-buffer record: MaxArgs uint32 and a uint64 time.
const recordSize = 4*MaxArgs + 8

// Event is one call of the watched function.
type Event struct {
	// Args are the watched arguments, truncated to 32 bits.
	Args [MaxArgs]uint32
	// Mono is CLOCK_MONOTONIC at the call, in nanoseconds.
	Mono uint64
}

// Witness is an attached probe and the events it has read.
type Witness struct {
	prog   *ebpf.Program
	ring   *ebpf.Map
	lost   *ebpf.Map
	link   link.Link
	rd     *ringbuf.Reader
	mu     sync.Mutex
	events []Event
	done   chan struct{}
	once   sync.Once
}

// Check says why the witness cannot run here, or nil.
func Check() error {
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("the witness reads Go's amd64 register ABI; this is %s", runtime.GOARCH)
	}
	if os.Geteuid() != 0 {
		return errors.New("the eBPF witness needs root (CAP_BPF and CAP_PERFMON)")
	}
	return nil
}

func program(args []int, ring, lost *ebpf.Map) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1), // struct pt_regs *
		asm.LoadMapPtr(asm.R1, ring.FD()),
		asm.Mov.Imm(asm.R2, recordSize),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "lost"),
		asm.Mov.Reg(asm.R7, asm.R0),
	}
	for i := range MaxArgs {
		if i < len(args) {
			insns = append(insns,
				asm.LoadMem(asm.R1, asm.R6, regOffsets[args[i]], asm.DWord),
				asm.StoreMem(asm.R7, int16(4*i), asm.R1, asm.Word))
		} else {
			insns = append(insns, asm.StoreImm(asm.R7, int16(4*i), 0, asm.Word))
		}
	}
	insns = append(insns,
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.R7, 4*MaxArgs, asm.R0, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufSubmit.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		// The ring was full: count the loss so the cross-check can say so.
		asm.StoreImm(asm.RFP, -4, 0, asm.Word).WithSymbol("lost"),
		asm.LoadMapPtr(asm.R1, lost.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	return insns
}

// AttachFunc puts a uprobe on fn, a Go function of this process (a
// top-level function or a method expression such as (*T).M), that records
// the integer arguments at Go ABI positions args (0 is RAX, 1 RBX, 2 RCX,
// ...; a method's receiver is position 0). The function is found through
// the runtime's own tables, so it works on binaries without an ELF symbol
// table (go run and go test link with -s).
func AttachFunc(fn any, args []int) (*Witness, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("witness: %T is not a function", fn)
	}
	pc := v.Pointer()
	f := runtime.FuncForPC(pc)
	if f == nil || f.Entry() != pc {
		return nil, fmt.Errorf("witness: %T is not the entry of a function", fn)
	}
	path, off, err := fileOffset(pc)
	if err != nil {
		return nil, fmt.Errorf("witness: %s: %w", f.Name(), err)
	}
	return attach(path, f.Name(), off, args, os.Getpid())
}

// fileOffset finds the executable file holding pc and pc's offset in it,
// from /proc/self/maps (right for PIE and non-PIE binaries alike).
func fileOffset(pc uintptr) (string, uint64, error) {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return "", 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		// start-end perms offset dev inode path
		f := strings.Fields(line)
		if len(f) < 6 || !strings.Contains(f[1], "x") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		moff, err3 := strconv.ParseUint(f[2], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil || uint64(pc) < start || uint64(pc) >= end {
			continue
		}
		path := strings.Join(f[5:], " ")
		// The running program's own file, even if it was replaced or
		// deleted since it started (a rebuild during a run): the kernel
		// resolves /proc/self/exe to the inode that is mapped.
		if st, err := os.Stat("/proc/self/exe"); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && strconv.FormatUint(sys.Ino, 10) == f[4] {
				path = "/proc/self/exe"
			}
		}
		return path, uint64(pc) - start + moff, nil
	}
	return "", 0, fmt.Errorf("address %#x is in no executable mapping of this process", pc)
}

func attach(path, name string, off uint64, args []int, pid int) (*Witness, error) {
	if len(args) > MaxArgs {
		return nil, fmt.Errorf("at most %d arguments", MaxArgs)
	}
	for _, a := range args {
		if a < 0 || a >= len(regOffsets) {
			return nil, fmt.Errorf("argument position %d: the Go ABI has %d integer argument registers", a, len(regOffsets))
		}
	}
	_ = rlimit.RemoveMemlock() // only matters on kernels before 5.11
	w := &Witness{done: make(chan struct{})}
	var err error
	if w.ring, err = ebpf.NewMap(&ebpf.MapSpec{Name: "sp_witness", Type: ebpf.RingBuf, MaxEntries: 4 << 20}); err != nil {
		return nil, fmt.Errorf("ring buffer: %w", err)
	}
	if w.lost, err = ebpf.NewMap(&ebpf.MapSpec{Name: "sp_lost", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}); err != nil {
		w.close()
		return nil, fmt.Errorf("loss counter: %w", err)
	}
	w.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "sp_witness", Type: ebpf.Kprobe, License: "GPL",
		Instructions: program(args, w.ring, w.lost)})
	if err != nil {
		w.close()
		return nil, fmt.Errorf("loading the witness program: %w", err)
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("witness: %w", err)
	}
	if w.link, err = ex.Uprobe(name, w.prog, &link.UprobeOptions{Address: off, PID: pid}); err != nil {
		w.close()
		return nil, fmt.Errorf("witness: uprobe on %s in %s: %w", name, path, err)
	}
	if w.rd, err = ringbuf.NewReader(w.ring); err != nil {
		w.close()
		return nil, fmt.Errorf("ring buffer reader: %w", err)
	}
	go w.read()
	return w, nil
}

func (w *Witness) read() {
	defer close(w.done)
	var rec ringbuf.Record
	for {
		if err := w.rd.ReadInto(&rec); err != nil {
			return // flushed (Stop) or closed
		}
		if len(rec.RawSample) < recordSize {
			continue
		}
		var ev Event
		for i := range MaxArgs {
			ev.Args[i] = binary.LittleEndian.Uint32(rec.RawSample[4*i:])
		}
		ev.Mono = binary.LittleEndian.Uint64(rec.RawSample[4*MaxArgs:])
		w.mu.Lock()
		w.events = append(w.events, ev)
		w.mu.Unlock()
	}
}

// Stop detaches the probe, reads what is left in the ring, and returns
// every event seen and the number lost to a full ring. Safe to call twice
// (the second call returns nothing new).
func (w *Witness) Stop() (events []Event, lost uint64, err error) {
	w.once.Do(func() {
		err = w.link.Close()
		// Everything submitted before the detach is in the ring now: Flush
		// makes the reader return it all, then ErrFlushed.
		w.rd.Flush()
		<-w.done
		w.lost.Lookup(uint32(0), &lost)
		w.close()
		w.mu.Lock()
		events = w.events
		w.events = nil
		w.mu.Unlock()
	})
	return events, lost, err
}

func (w *Witness) close() {
	if w.rd != nil {
		w.rd.Close()
	}
	if w.link != nil {
		w.link.Close()
	}
	if w.prog != nil {
		w.prog.Close()
	}
	if w.ring != nil {
		w.ring.Close()
	}
	if w.lost != nil {
		w.lost.Close()
	}
}
