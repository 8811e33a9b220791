package model

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// A state value the encoding is checked on: a pointer to one actor's state
// (or a message), how to write it, and how to read it back.
type codecCase struct {
	name  string
	new   func() any // a pointer to a zero value
	fix   func(v any, rnd *rand.Rand)
	write func(v any, w *StateWriter) []byte
	read  func(v any, r *StateReader)
	// like is a value to read into, with v's fixed sizes (nil: a zero value).
	like func(v any) any
	// fixed are the leaf fields the encoding leaves out on purpose: set once
	// per run, or implied by where the value lives.
	fixed []string
}

// idRanker ranks 0..1023 as themselves (Rank(v) = v), so a changed counter
// changes the encoding.
func idRanker() *Ranker {
	r := &Ranker{}
	for v := uint32(0); v < 1024; v++ {
		r.Add(v)
	}
	r.Done()
	return r
}

func codecCases() []codecCase {
	id := idRanker()
	ids := []*Ranker{id, id, id, id}
	return []codecCase{
		{name: "Camera", new: func() any { return new(Camera) },
			write: func(v any, w *StateWriter) []byte { return v.(*Camera).AppendState(nil, w, 5, id) },
			read:  func(v any, r *StateReader) { v.(*Camera).ReadState(r) },
			fixed: []string{"Profile", "Video"}},
		{name: "Gateway", new: func() any { return new(Gateway) },
			fix:   func(v any, _ *rand.Rand) { g := v.(*Gateway); g.Tokens &= 0x7fff },
			write: func(v any, w *StateWriter) []byte { return v.(*Gateway).AppendState(nil, w, 1) },
			read:  func(v any, r *StateReader) { v.(*Gateway).ReadState(r) }},
		{name: "Cache", new: func() any { return new(Cache) },
			fix: func(v any, _ *rand.Rand) {
				for i := range v.(*Cache).Queue {
					q := &v.(*Cache).Queue[i]
					q.From, q.Conn = WorkerAddr(int(q.From.Index%2)), q.Conn%2
				}
			},
			like: func(v any) any { return &Cache{Data: make([]CacheEntry, len(v.(*Cache).Data))} },
			write: func(v any, w *StateWriter) []byte {
				c := v.(*Cache)
				b := c.AppendState(nil, w, 1, 2, ids, ids)
				for d := range c.Data {
					b = c.AppendEntry(b, w, DeviceID(d))
				}
				return b
			},
			read: func(v any, r *StateReader) {
				c := v.(*Cache)
				var q []Queued
				c.ReadState(r, &q)
				for d := range c.Data {
					c.ReadEntry(r, DeviceID(d))
				}
			},
			fixed: []string{"Queue.From.Kind"}},
		{name: "Registry", new: func() any { return new(Registry) },
			fix: func(v any, rnd *rand.Rand) {
				g := v.(*Registry)
				g.Version = make([]uint32, len(g.Owners))
				for i := range g.Version {
					g.Version[i] = uint32(rnd.IntN(4))
				}
			},
			like: func(v any) any {
				n := len(v.(*Registry).Owners)
				return &Registry{Owners: make([]Owners, n), Version: make([]uint32, n)}
			},
			write: func(v any, w *StateWriter) []byte {
				g := v.(*Registry)
				var b []byte
				for d := range g.Owners {
					b = g.AppendDevice(b, w, DeviceID(d))
				}
				return b
			},
			read: func(v any, r *StateReader) {
				g := v.(*Registry)
				for d := range g.Owners {
					g.ReadDevice(r, DeviceID(d))
				}
			}},
		{name: "Store", new: func() any { return new(Store) },
			like: func(v any) any { return &Store{Next: make([]uint32, len(v.(*Store).Next))} },
			write: func(v any, w *StateWriter) []byte {
				s := v.(*Store)
				b := s.AppendState(nil, w)
				for d := range s.Next {
					b = s.AppendDevice(b, w, DeviceID(d))
				}
				return b
			},
			read: func(v any, r *StateReader) {
				s := v.(*Store)
				s.ReadState(r)
				for d := range s.Next {
					s.ReadDevice(r, DeviceID(d))
				}
			}},
		{name: "Worker", new: func() any { return new(Worker) },
			fix: func(v any, _ *rand.Rand) {
				if wk := v.(*Worker); len(wk.Conns) == 0 {
					wk.Conns = make([]PoolConn, 1) // a pool has a connection at least
				}
			},
			like:  func(v any) any { return &Worker{Conns: make([]PoolConn, len(v.(*Worker).Conns))} },
			write: func(v any, w *StateWriter) []byte { return v.(*Worker).AppendState(nil, w, 3, ids, ids) },
			read: func(v any, r *StateReader) {
				buf := WorkerStorage{Unread: make([][]CacheReply, len(v.(*Worker).Conns))}
				v.(*Worker).ReadState(r, &buf)
			},
			fixed: []string{"Client"}},
		{name: "Msg", new: func() any { return new(Msg) },
			fix: func(v any, rnd *rand.Rand) {
				m := v.(*Msg)
				m.Type = MsgType(1 + rnd.IntN(len(msgNames)-1))
				m.From, m.Conn = Addr{}, 0
			},
			write: func(v any, w *StateWriter) []byte { return v.(*Msg).AppendState(nil, w, id, id) },
			read:  func(v any, r *StateReader) { *v.(*Msg) = r.Msg(Addr{}, 0) },
			fixed: []string{"From", "Conn"}},
		{name: "Web", new: func() any { return new(Web) },
			write: func(v any, w *StateWriter) []byte { return v.(*Web).AppendState(nil, w, 1) },
			read:  func(v any, r *StateReader) { v.(*Web).ReadState(r) }},
		{name: "Notifier", new: func() any { return new(Notifier) },
			write: func(v any, w *StateWriter) []byte { return v.(*Notifier).AppendState(nil, w) },
			read:  func(v any, r *StateReader) { v.(*Notifier).ReadState(r) }},
		{name: "Replica", new: func() any { return new(Replica) },
			write: func(v any, w *StateWriter) []byte { return v.(*Replica).AppendState(nil, w) },
			read:  func(v any, r *StateReader) { v.(*Replica).ReadState(r) }},
		{name: "Reader", new: func() any { return new(Reader) },
			fix:   func(v any, _ *rand.Rand) { v.(*Reader).State &= 3 },
			write: func(v any, w *StateWriter) []byte { return v.(*Reader).AppendState(nil, w, 1) },
			read:  func(v any, r *StateReader) { v.(*Reader).ReadState(r) }},
	}
}

var ownersType = reflect.TypeFor[Owners]()

// fill draws a small random value for every field of v.
func fill(v reflect.Value, rnd *rand.Rand) {
	if v.Type() == ownersType {
		var o Owners
		for range rnd.IntN(MaxOwners + 1) {
			o.Add(AccountID(rnd.IntN(6)))
		}
		v.Set(reflect.ValueOf(o))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), rnd)
			}
		}
	case reflect.Slice:
		n := rnd.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := 0; i < n; i++ {
			fill(v.Index(i), rnd)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), rnd)
		}
	case reflect.Bool:
		v.SetBool(rnd.IntN(2) == 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(rnd.IntN(4)))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(int64(rnd.IntN(4)))
	}
}

// leaves lists the paths of v's leaf fields (a slice or array by its first
// element; an owner set is one leaf).
func leaves(t reflect.Type, path []int, name string, out *[]leaf) {
	if t == ownersType {
		*out = append(*out, leaf{append([]int(nil), path...), name})
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() {
				n := f.Name
				if name != "" {
					n = name + "." + f.Name
				}
				leaves(f.Type, append(path, i), n, out)
			}
		}
	case reflect.Slice, reflect.Array:
		leaves(t.Elem(), append(path, -1), name, out)
	case reflect.Bool, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		*out = append(*out, leaf{append([]int(nil), path...), name})
	}
}

type leaf struct {
	path []int // field indices; -1: element 0
	name string
}

// mutate changes the leaf at path in v, if v has it (a slice may be empty).
func mutate(v reflect.Value, path []int) bool {
	for _, i := range path {
		if i >= 0 {
			v = v.Field(i)
			continue
		}
		if v.Len() == 0 {
			return false
		}
		v = v.Index(0)
	}
	switch {
	case v.Type() == ownersType:
		o := v.Interface().(Owners)
		if o.N > 0 {
			o.IDs[0]++
		} else {
			o.Add(1)
		}
		v.Set(reflect.ValueOf(o))
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	case v.CanUint():
		v.SetUint(v.Uint() ^ 1)
	default:
		v.SetInt(v.Int() ^ 1)
	}
	return true
}

func draw(c codecCase, seed uint64) (any, bool) {
	rnd := rand.New(rand.NewPCG(seed, 7))
	v := c.new()
	fill(reflect.ValueOf(v).Elem(), rnd)
	if c.fix != nil {
		c.fix(v, rnd)
	}
	return v, true
}

func encodes(c codecCase, v any) (b []byte, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return c.write(v, &StateWriter{}), true
}

// Every field of every actor's state (and of a message) is written by its
// AppendState in some state, so no two states that differ are merged: for
// each field, random values are drawn and the field changed in each, and
// some draw's encoding must change. A field added to an actor fails here
// until its AppendState writes it (or it is listed as fixed per run). And
// ReadState reads back a value that encodes to the same bytes.
func TestEveryFieldIsEncoded(t *testing.T) {
	for _, c := range codecCases() {
		var ls []leaf
		leaves(reflect.TypeOf(c.new()).Elem(), nil, "", &ls)
		isFixed := func(name string) bool {
			for _, f := range c.fixed {
				if name == f || strings.HasPrefix(name, f+".") {
					return true
				}
			}
			return false
		}
		for seed := uint64(0); seed < 200; seed++ {
			v, _ := draw(c, seed)
			b, ok := encodes(c, v)
			if !ok {
				continue
			}
			back := c.new()
			if c.like != nil {
				back = c.like(v)
			}
			r := &StateReader{B: b}
			c.read(back, r)
			if again, _ := encodes(c, back); r.Bad || len(r.B) != 0 || !bytes.Equal(again, b) {
				t.Fatalf("%s: %+v encodes as %x, reads back as %+v (bad %v, %d left), which encodes as %x", c.name, v, b, back, r.Bad, len(r.B), again)
			}
		}
		for _, l := range ls {
			if isFixed(l.name) {
				continue
			}
			seen := false
			for seed := uint64(0); seed < 3000 && !seen; seed++ {
				x, _ := draw(c, seed)
				y, _ := draw(c, seed)
				if !mutate(reflect.ValueOf(y).Elem(), l.path) {
					continue
				}
				bx, ok1 := encodes(c, x)
				by, ok2 := encodes(c, y)
				seen = ok1 && ok2 && !bytes.Equal(bx, by)
			}
			if !seen {
				t.Errorf("%s.%s is never written by its AppendState (encode it, or list it as fixed per run)", c.name, l.name)
			}
		}
	}
}

// The world's actors are each encoded by the state space (model/statespace):
// a new actor in World fails here until it is.
func TestWorldActorsAreKnown(t *testing.T) {
	encoded := "Env Cameras Gateway Workers Cache Registry Store Web Notifier Replica Reader"
	typ := reflect.TypeFor[World]()
	for i := 0; i < typ.NumField(); i++ {
		if f := typ.Field(i); !strings.Contains(" "+encoded+" ", " "+f.Name+" ") {
			t.Errorf("World has a field %s the state space does not encode", f.Name)
		}
	}
}
