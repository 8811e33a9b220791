package faults

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Return codes of a TCX program.
const (
	tcxNext = -1 // let the next program (or the stack) have the packet
	tcxDrop = 2
)

// Offsets into struct __sk_buff and the packet (Ethernet + IPv4 + TCP).
const (
	skbData    = 76
	skbDataEnd = 80
	ethProto   = 12
	ipVerIHL   = 14
	ipProto    = 23
	tcpDport   = 36 // 14 + 20 + 2: IPv4 without options (loopback TCP never sets any)
	minLen     = 38
)

// Counters in the stats map.
const (
	statSeen    = 0 // packets to the port
	statDropped = 1
)

// Dropper is the fault injector attached to lo. Close detaches it; the
// kernel also detaches it if the process dies, since the link is never
// pinned.
type Dropper struct {
	Port  int
	prog  *ebpf.Program
	sched *ebpf.Map
	stats *ebpf.Map
	link  link.Link
	once  sync.Once
}

// Check says why eBPF fault injection cannot run here, or nil.
func Check() error {
	if os.Geteuid() != 0 {
		return errors.New("eBPF fault injection needs root (CAP_BPF and CAP_NET_ADMIN)")
	}
	return nil
}

func newMaps() (sched, stats *ebpf.Map, err error) {
	sched, err = ebpf.NewMap(&ebpf.MapSpec{Name: "sp_sched", Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: MaxWindows})
	if err != nil {
		return nil, nil, fmt.Errorf("schedule map: %w", err)
	}
	stats, err = ebpf.NewMap(&ebpf.MapSpec{Name: "sp_stats", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	if err != nil {
		sched.Close()
		return nil, nil, fmt.Errorf("stats map: %w", err)
	}
	return sched, stats, nil
}

// program builds the filter: for TCP/IPv4 packets to port, look up the
// window that holds bpf_ktime_get_ns() (at most MaxWindows, sorted) and
// drop with its probability. Built with the asm package so users need no
// clang.
func program(port uint16, sched, stats *ebpf.Map) asm.Instructions {
	portLE := int32(port>>8 | port<<8&0xff00) // the port as its network-order bytes read little-endian
	// count adds 1 to stats[key]; its first instruction carries symbol, and
	// it continues at label.
	count := func(key int32, symbol, label string) asm.Instructions {
		return asm.Instructions{
			asm.StoreImm(asm.RFP, -4, int64(key), asm.Word).WithSymbol(symbol),
			asm.LoadMapPtr(asm.R1, stats.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, label),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		}
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, skbData, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, skbDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, minLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ethProto, asm.Half),
		asm.JNE.Imm(asm.R5, 0x0008, "pass"), // ETH_P_IP in network order
		asm.LoadMem(asm.R5, asm.R2, ipVerIHL, asm.Byte),
		asm.JNE.Imm(asm.R5, 0x45, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ipProto, asm.Byte),
		asm.JNE.Imm(asm.R5, unix.IPPROTO_TCP, "pass"),
		asm.LoadMem(asm.R5, asm.R2, tcpDport, asm.Half),
		asm.JNE.Imm(asm.R5, portLE, "pass"),
	}
	insns = append(insns, count(statSeen, "seen", "clock")...)
	insns = append(insns,
		asm.FnKtimeGetNs.Call().WithSymbol("clock"),
		asm.Mov.Reg(asm.R8, asm.R0), // now
		asm.Mov.Imm(asm.R7, 0),      // window index
		asm.JGE.Imm(asm.R7, MaxWindows, "pass").WithSymbol("loop"),
		asm.StoreMem(asm.RFP, -8, asm.R7, asm.Word),
		asm.LoadMapPtr(asm.R1, sched.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord), // to
		asm.JEq.Imm(asm.R1, 0, "pass"),            // end of the schedule
		asm.JGE.Reg(asm.R8, asm.R1, "next"),       // window over
		asm.LoadMem(asm.R2, asm.R0, 0, asm.DWord), // from
		asm.JLT.Reg(asm.R8, asm.R2, "pass"),       // sorted: no later window holds now
		asm.LoadMem(asm.R9, asm.R0, 16, asm.DWord),
		asm.FnGetPrandomU32.Call(),
		asm.JLT.Reg(asm.R0, asm.R9, "drop"),
		asm.Ja.Label("pass"),
		asm.Add.Imm(asm.R7, 1).WithSymbol("next"),
		asm.Ja.Label("loop"),
	)
	insns = append(insns, count(statDropped, "drop", "shot")...)
	insns = append(insns,
		asm.Mov.Imm(asm.R0, tcxDrop).WithSymbol("shot"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, tcxNext).WithSymbol("pass"),
		asm.Return(),
	)
	return insns
}

func load(port int) (*Dropper, error) {
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("port %d out of range", port)
	}
	_ = rlimit.RemoveMemlock() // only matters on kernels before 5.11
	sched, stats, err := newMaps()
	if err != nil {
		return nil, err
	}
	// The name carries the port, so a leftover program would say whose it is.
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: ProgramName(port), Type: ebpf.SchedCLS, License: "GPL",
		Instructions: program(uint16(port), sched, stats)})
	if err != nil {
		sched.Close()
		stats.Close()
		return nil, fmt.Errorf("loading the drop program: %w", err)
	}
	return &Dropper{Port: port, prog: prog, sched: sched, stats: stats}, nil
}

// Attach loads the drop filter for packets to port and attaches it to the
// ingress of lo. Until Arm writes a schedule it drops nothing.
func Attach(port int) (*Dropper, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	d, err := load(port)
	if err != nil {
		return nil, err
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("loopback interface: %w", err)
	}
	d.link, err = link.AttachTCX(link.TCXOptions{Interface: lo.Index, Program: d.prog, Attach: ebpf.AttachTCXIngress})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("attaching TCX to lo (needs kernel ≥ 6.6): %w", err)
	}
	return d, nil
}

// Arm writes schedule s into the map, its offsets counted from base
// (CLOCK_MONOTONIC nanoseconds, the clock of bpf_ktime_get_ns).
func (d *Dropper) Arm(base uint64, s Schedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	es := s.entries(base)
	for i := range MaxWindows {
		var e entry
		if i < len(es) {
			e = es[i]
		}
		if err := d.sched.Update(uint32(i), e, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("writing the schedule: %w", err)
		}
	}
	return nil
}

// Stats returns the packets to the port seen and dropped so far.
func (d *Dropper) Stats() (seen, dropped uint64) {
	d.stats.Lookup(uint32(statSeen), &seen)
	d.stats.Lookup(uint32(statDropped), &dropped)
	return seen, dropped
}

// ProgramID is the kernel's id of the attached program (for checks that
// nothing is left attached).
func (d *Dropper) ProgramID() (ebpf.ProgramID, error) {
	info, err := d.prog.Info()
	if err != nil {
		return 0, err
	}
	id, ok := info.ID()
	if !ok {
		return 0, errors.New("program id not available")
	}
	return id, nil
}

// Close detaches the program and frees its maps. Safe to call twice.
func (d *Dropper) Close() error {
	var err error
	d.once.Do(func() {
		if d.link != nil {
			err = d.link.Close()
		}
		d.prog.Close()
		d.sched.Close()
		d.stats.Close()
	})
	return err
}

// Monotonic is CLOCK_MONOTONIC now, in nanoseconds (bpf_ktime_get_ns's clock).
func Monotonic() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// ProgramName is the kernel name of the drop program for port.
func ProgramName(port int) string { return fmt.Sprintf("sp_drop_%d", port) }

// AttachedNames lists the names of the TCX ingress programs on lo.
func AttachedNames() ([]string, error) {
	ids, err := AttachedTo()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, id := range ids {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // detached since
		}
		if info, err := p.Info(); err == nil {
			names = append(names, info.Name)
		}
		p.Close()
	}
	return names, nil
}

// AttachedTo lists the ids of the TCX ingress programs on lo.
func AttachedTo() ([]ebpf.ProgramID, error) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return nil, err
	}
	res, err := link.QueryPrograms(link.QueryOptions{Target: lo.Index, Attach: ebpf.AttachTCXIngress})
	if err != nil {
		return nil, err
	}
	var ids []ebpf.ProgramID
	for _, p := range res.Programs {
		ids = append(ids, p.ID)
	}
	return ids, nil
}
