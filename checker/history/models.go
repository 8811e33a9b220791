package history

import (
	"fmt"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// OpSpec is one operation of a built-in model: its name, how many
// arguments it takes, and whether it returns a value (a read, whose `val`
// a history must give when it returned).
type OpSpec struct {
	Name string
	Args int
	Read bool
}

// Builtin is a built-in model: its name, operations and porcupine model.
// Every built-in model is per key: keys are independent, and the history
// is partitioned by key.
type Builtin struct {
	Name  string
	Doc   string
	Ops   []OpSpec
	Model porcupine.Model
}

// Builtins are the built-in models, by name.
func Builtins() []Builtin {
	return []Builtin{
		{Name: "register", Doc: "get/set/del per key; a key holds a value or nothing (nil)", Ops: []OpSpec{{"get", 0, true}, {"set", 1, false}, {"del", 0, false}}, Model: Register()},
		{Name: "cas-register", Doc: "read/write/cas per key, as in Jepsen's etcd test; a key starts as nil", Ops: []OpSpec{{"read", 0, true}, {"write", 1, false}, {"cas", 2, false}}, Model: CASRegister()},
		{Name: "kv", Doc: "get/put/append per key; a key's value is a string, \"\" at first", Ops: []OpSpec{{"get", 0, true}, {"put", 1, false}, {"append", 1, false}}, Model: KV()},
	}
}

// Lookup returns the built-in model named name.
func Lookup(name string) (Builtin, bool) {
	for _, b := range Builtins() {
		if b.Name == name {
			return b, true
		}
	}
	return Builtin{}, false
}

// ModelNames lists the built-in models' names.
func ModelNames() []string {
	var ns []string
	for _, b := range Builtins() {
		ns = append(ns, b.Name)
	}
	return ns
}

// Conform checks that every operation of h is one of b's, with its number
// of arguments and, for a read that returned, its value. The error names
// the line.
func (h *History) Conform(b Builtin) error {
	for i := range h.Ops {
		op := &h.Ops[i]
		j := slices.IndexFunc(b.Ops, func(s OpSpec) bool { return s.Name == op.In.Op })
		if j < 0 {
			var names []string
			for _, s := range b.Ops {
				names = append(names, s.Name)
			}
			return h.errf(op.Line, "op: unknown operation %q for the %s model (it has %s)", op.In.Op, b.Name, strings.Join(names, ", "))
		}
		s := b.Ops[j]
		if op.NArgs != s.Args {
			return h.errf(op.Line, "args: %s takes %d argument(s), have %d", s.Name, s.Args, op.NArgs)
		}
		for _, a := range []struct {
			v Value
			n int
		}{{op.In.Arg, 1}, {op.In.Arg2, 2}} {
			if a.n <= s.Args && !a.v.Set {
				return h.errf(op.Line, "args: argument %d of %s is null; the %s model writes values, not nil", a.n, s.Name, b.Name)
			}
		}
		if s.Read && op.Out.OK && !op.Out.Unknown && !op.HasVal {
			return h.errf(op.RetLine, "val: missing: a %s that returned gives the value it read (null for nil)", s.Name)
		}
		if b.Name == "kv" && op.HasVal && !op.Out.Value.Set {
			// porcupine's kv model: a key's value is a string, "" at first.
			op.Out.Value = V("")
		}
	}
	return nil
}

// ByKey partitions a history by key: keys in sorted order, each key's
// operations in the order given. A model whose keys are independent may
// use it as its Partition.
func ByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var keys []string
	var parts [][]porcupine.Operation
	for _, op := range ops {
		k := op.Input.(*Input).Key
		i, ok := idx[k]
		if !ok {
			i = len(parts)
			idx[k] = i
			keys = append(keys, k)
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	out := make([][]porcupine.Operation, len(order))
	for i, j := range order {
		out[i] = parts[j]
	}
	return out
}

func hashString(s string, set bool) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	if set {
		h ^= 0x9e3779b97f4a7c15
	}
	return h
}

func describeValue(v Value) string { return v.String() }

func describeOut(out Output, what string) string {
	if out.Unknown {
		return what + " -> unknown"
	}
	return what
}

// Register is the get/set/del register, per key: the state is the key's
// Value (nil at first); get returns it, set replaces it, del makes it nil.
// An operation with an unknown outcome may take effect (a get with an
// unknown result reads anything).
func Register() porcupine.Model {
	return porcupine.Model{
		Partition: ByKey,
		Init:      func() any { return Nil },
		Step: func(state, input, output any) (bool, any) {
			st := state.(Value)
			in := input.(*Input)
			out := output.(*Output)
			switch in.Op {
			case "get":
				return out.Unknown || out.Value == st, st
			case "set":
				return true, in.Arg
			case "del":
				return true, Nil
			}
			return false, st
		},
		Hash:  func(state any) uint64 { v := state.(Value); return hashString(v.S, v.Set) },
		Equal: func(a, b any) bool { return a.(Value) == b.(Value) },
		DescribeOperation: func(input, output any) string {
			in := input.(*Input)
			out := output.(*Output)
			switch in.Op {
			case "get":
				if out.Unknown {
					return fmt.Sprintf("get(%q) -> unknown", in.Key)
				}
				return fmt.Sprintf("get(%q) -> %s", in.Key, out.Value)
			case "set":
				return describeOut(*out, fmt.Sprintf("set(%q, %s)", in.Key, in.Arg))
			case "del":
				return describeOut(*out, fmt.Sprintf("del(%q)", in.Key))
			}
			return in.Op + " (not an operation of the register)"
		},
		DescribeState: func(state any) string { return describeValue(state.(Value)) },
	}
}

// CASRegister is Jepsen's etcd register, as porcupine's own test models
// it, per key: read returns the value (nil at first), write replaces it,
// cas(old, new) replaces it with new when it holds old and then returns ok;
// a cas that returned fail says the register did not hold old (and changed
// nothing). An unknown outcome accepts either.
func CASRegister() porcupine.Model {
	return porcupine.Model{
		Partition: ByKey,
		Init:      func() any { return Nil },
		Step: func(state, input, output any) (bool, any) {
			st := state.(Value)
			in := input.(*Input)
			out := output.(*Output)
			switch in.Op {
			case "read":
				return out.Unknown || out.Value == st, st
			case "write":
				return true, in.Arg
			case "cas":
				match := st == in.Arg
				next := st
				if match {
					next = in.Arg2
				}
				return out.Unknown || match == out.OK, next
			}
			return false, st
		},
		Hash:  func(state any) uint64 { v := state.(Value); return hashString(v.S, v.Set) },
		Equal: func(a, b any) bool { return a.(Value) == b.(Value) },
		DescribeOperation: func(input, output any) string {
			in := input.(*Input)
			out := output.(*Output)
			switch in.Op {
			case "read":
				if out.Unknown {
					return "read() -> unknown"
				}
				return fmt.Sprintf("read() -> %s", out.Value)
			case "write":
				return describeOut(*out, fmt.Sprintf("write(%s)", in.Arg))
			case "cas":
				r := "fail"
				switch {
				case out.Unknown:
					r = "unknown"
				case out.OK:
					r = "ok"
				}
				return fmt.Sprintf("cas(%s, %s) -> %s", in.Arg, in.Arg2, r)
			}
			return in.Op + " (not an operation of the cas-register)"
		},
		DescribeState: func(state any) string { return describeValue(state.(Value)) },
	}
}

// KV is porcupine's key-value model, per key: a key's value is a string,
// "" at first; get returns it, put replaces it, append concatenates.
func KV() porcupine.Model {
	return porcupine.Model{
		Partition: ByKey,
		Init:      func() any { return "" },
		Step: func(state, input, output any) (bool, any) {
			st := state.(string)
			in := input.(*Input)
			out := output.(*Output)
			switch in.Op {
			case "get":
				return out.Unknown || out.Value.S == st, st
			case "put":
				return true, in.Arg.S
			case "append":
				return true, st + in.Arg.S
			}
			return false, st
		},
		Hash:  func(state any) uint64 { return hashString(state.(string), false) },
		Equal: func(a, b any) bool { return a.(string) == b.(string) },
		DescribeOperation: func(input, output any) string {
			in := input.(*Input)
			out := output.(*Output)
			switch in.Op {
			case "get":
				if out.Unknown {
					return fmt.Sprintf("get(%q) -> unknown", in.Key)
				}
				return fmt.Sprintf("get(%q) -> %q", in.Key, out.Value.S)
			case "put":
				return describeOut(*out, fmt.Sprintf("put(%q, %q)", in.Key, in.Arg.S))
			case "append":
				return describeOut(*out, fmt.Sprintf("append(%q, %q)", in.Key, in.Arg.S))
			}
			return in.Op + " (not an operation of the kv model)"
		},
		DescribeState: func(state any) string { return fmt.Sprintf("%q", state.(string)) },
	}
}
