package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// BenchmarkHistory checks the same histories two ways, side by side:
// "stormproof" is this package's path (Read, Conform, Check) and
// "porcupine" a minimal loader in this file and porcupine's
// CheckOperationsVerbose on a model over plain structs, as porcupine's own
// tests write it. Both include reading the file.
//
//	go test -run XXX -bench History -benchmem ./checker/history
func BenchmarkHistory(b *testing.B) {
	dir := b.TempDir()
	synth := filepath.Join(dir, "register-200k.jsonl")
	if err := os.WriteFile(synth, synthetic(200_000, 2_000, 16), 0o644); err != nil {
		b.Fatal(err)
	}
	bad := filepath.Join(dir, "register-200k-bad.jsonl")
	if err := os.WriteFile(bad, staleRead(synthetic(200_000, 2_000, 16)), 0o644); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, path string
		direct     func(data []byte) porcupine.CheckResult
	}{
		{"kv-c50-ok", "testdata/porcupine/kv/c50-ok.txt", directKV},
		{"kv-c10-bad", "testdata/porcupine/kv/c10-bad.txt", directKV},
		{"etcd-002", "testdata/porcupine/jepsen/etcd_002.log", directEtcd},
		{"register-200k", synth, directRegister},
		{"register-200k-bad", bad, directRegister},
	}
	for _, c := range cases {
		data, err := os.ReadFile(c.path)
		if err != nil {
			b.Fatal(err)
		}
		want := c.direct(data)
		b.Run(c.name+"/stormproof", func(b *testing.B) {
			for b.Loop() {
				h, err := Read(bytes.NewReader(data), c.path)
				if err != nil {
					b.Fatal(err)
				}
				m, _ := Lookup("register")
				if h.Format != JSONL {
					m = modelFor(b, h)
				}
				if err := h.Conform(m); err != nil {
					b.Fatal(err)
				}
				if r := CheckWith(h, m.Model, Options{Explain: time.Minute}); r.Verdict != want {
					b.Fatalf("verdict %s, direct %s", r.Verdict, want)
				}
			}
		})
		b.Run(c.name+"/porcupine", func(b *testing.B) {
			for b.Loop() {
				c.direct(data)
			}
		})
	}
}

// synthetic is a linearizable register history of n operations on keys
// keys by procs processes: operation i takes effect at 10·i, was called up
// to 30 before and returned up to 30 after, so neighbours overlap.
func synthetic(n, keys, procs int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString(`{"schema":"stormproof-history","version":"1.0","model":"register"}` + "\n")
	state := map[int]string{}
	for i := range n {
		k := rng.IntN(keys)
		t := int64(10*i + 100)
		call, ret := t-rng.Int64N(30), t+rng.Int64N(30)
		if rng.IntN(10) < 6 {
			v, ok := state[k]
			val := "null"
			if ok {
				val = strconv.Quote(v)
			}
			fmt.Fprintf(&buf, `{"proc":%d,"call":%d,"ret":%d,"op":"get","key":"%d","val":%s}`+"\n", i%procs, call, ret, k, val)
		} else {
			v := "v" + strconv.Itoa(i)
			state[k] = v
			fmt.Fprintf(&buf, `{"proc":%d,"call":%d,"ret":%d,"op":"set","key":"%d","args":[%q]}`+"\n", i%procs, call, ret, k, v)
		}
	}
	return buf.Bytes()
}

// staleRead makes a history illegal: the last read of a value, a hundred
// lines before the end, reads a value never written instead.
func staleRead(h []byte) []byte {
	lines := bytes.Split(h, []byte("\n"))
	for i := len(lines) - 100; i > 0; i-- {
		if bytes.Contains(lines[i], []byte(`"op":"get"`)) && !bytes.Contains(lines[i], []byte(`"val":null`)) {
			lines[i] = append(bytes.Split(lines[i], []byte(`"val":`))[0], []byte(`"val":"never-written"}`)...)
			break
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// The direct path: plain structs and porcupine, nothing of this package.

type dIn struct {
	op       uint8 // 0 get/read, 1 set/write/put, 2 append, 3 cas
	key, val string
	to       string
}

type dOut struct {
	val          string
	set, ok, unk bool
}

func dPartition(h []porcupine.Operation) [][]porcupine.Operation {
	m := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range h {
		k := op.Input.(dIn).key
		if _, ok := m[k]; !ok {
			keys = append(keys, k)
		}
		m[k] = append(m[k], op)
	}
	slices.Sort(keys)
	var out [][]porcupine.Operation
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

type dState struct {
	v   string
	set bool
}

// dRegister is porcupine's test etcdModel over dIn/dOut, with a state hash
// as its kvModel has.
var dRegister = porcupine.Model{
	Partition: dPartition,
	Hash: func(s any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s.(dState).v))
		return h.Sum64()
	},
	Init: func() any { return dState{} },
	Step: func(s, in, out any) (bool, any) {
		st, i, o := s.(dState), in.(dIn), out.(dOut)
		switch i.op {
		case 0:
			return o.unk || (o.set == st.set && o.val == st.v), st
		case 1:
			return true, dState{i.val, true}
		case 3:
			match := st.set && st.v == i.val
			if match {
				return o.unk || o.ok, dState{i.to, true}
			}
			return o.unk || !o.ok, st
		}
		return false, st
	},
}

// dKV is porcupine's test kvModel (with its FNV state hash) over dIn/dOut.
var dKV = porcupine.Model{
	Partition: dPartition,
	Hash: func(s any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s.(string)))
		return h.Sum64()
	},
	Init: func() any { return "" },
	Step: func(s, in, out any) (bool, any) {
		st, i, o := s.(string), in.(dIn), out.(dOut)
		switch i.op {
		case 0:
			return o.val == st, st
		case 1:
			return true, i.val
		}
		return true, st + i.val
	},
}

func directRegister(data []byte) porcupine.CheckResult {
	var ops []porcupine.Operation
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	sc.Scan() // header
	for sc.Scan() {
		var l struct {
			Proc      int
			Call, Ret int64
			Op, Key   string
			Args      []string
			Val       *string
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			panic(err)
		}
		in := dIn{key: l.Key}
		var out dOut
		if l.Op == "set" {
			in.op, in.val = 1, l.Args[0]
		} else if l.Val != nil {
			out.val, out.set = *l.Val, true
		}
		ops = append(ops, porcupine.Operation{ClientId: l.Proc, Input: in, Call: l.Call, Output: out, Return: l.Ret})
	}
	res, _ := porcupine.CheckOperationsVerbose(dRegister, ops, 0)
	return res
}

var (
	ednRe    = regexp.MustCompile(`{:process (\d+), :type :(\w+), :f :(\w+), :key "(.*)", :value (nil|"(.*)")}`)
	jepsenRe = regexp.MustCompile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(\w+)\s+:(\w+)\s+(.*)$`)
)

// loadEvents is porcupine's test loaders in one: a call per :invoke, its
// return at the process's next :ok/:fail/:info line; what is open at the end
// (or :info) returns at the end with an unknown output.
func loadEvents(data []byte, re *regexp.Regexp, kv bool) []porcupine.Operation {
	var ops []porcupine.Operation
	open := map[int]int{}
	lines := strings.Split(string(data), "\n")
	end := int64(len(lines) + 1)
	for n, line := range lines {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		proc, _ := strconv.Atoi(m[1])
		t := int64(n + 1)
		switch m[2] {
		case "invoke":
			in := dIn{}
			if kv {
				in.key = m[4]
				switch m[3] {
				case "put":
					in.op, in.val = 1, m[6]
				case "append":
					in.op, in.val = 2, m[6]
				}
			} else {
				switch m[3] {
				case "write":
					in.op, in.val = 1, m[4]
				case "cas":
					f := strings.Fields(strings.Trim(m[4], "[]"))
					in.op, in.val, in.to = 3, f[0], f[1]
				}
			}
			open[proc] = len(ops)
			ops = append(ops, porcupine.Operation{ClientId: proc, Input: in, Call: t, Return: end, Output: dOut{unk: true}})
		default:
			i := open[proc]
			delete(open, proc)
			op := &ops[i]
			switch {
			case m[2] == "info":
			case m[2] == "fail" && op.Input.(dIn).op != 3:
				op.Output, op.Return = dOut{unk: true}, t
			case kv:
				op.Output, op.Return = dOut{val: m[6]}, t
			default:
				o := dOut{ok: m[2] == "ok"}
				if op.Input.(dIn).op == 0 && m[4] != "nil" {
					o.val, o.set = m[4], true
				}
				op.Output, op.Return = o, t
			}
		}
	}
	return ops
}

func directKV(data []byte) porcupine.CheckResult {
	res, _ := porcupine.CheckOperationsVerbose(dKV, loadEvents(data, ednRe, true), 0)
	return res
}

func directEtcd(data []byte) porcupine.CheckResult {
	res, _ := porcupine.CheckOperationsVerbose(dRegister, loadEvents(data, jepsenRe, false), 0)
	return res
}
