package traces

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/model"
)

// Reader reads a trace: the header first, then one event per Next.
type Reader struct {
	Header Header
	file   string
	r      *bufio.Reader
	line   int
	lastT  model.Time
	p      parser
}

// NewReader reads and checks the header. file names the input in errors
// ("" for none).
func NewReader(r io.Reader, file string) (*Reader, error) {
	tr := &Reader{file: file, r: bufio.NewReaderSize(r, 1<<20)}
	line, err := tr.readLine()
	if err == io.EOF {
		return nil, tr.errf("empty trace: no header line")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(line, &tr.Header); err != nil {
		return nil, tr.errf("missing or malformed header (want a JSON object with \"schema\": %q): %v", SchemaName, shortJSONErr(err))
	}
	h := &tr.Header
	if h.Schema != SchemaName {
		return nil, tr.errf("missing header: schema is %q, want %q", h.Schema, SchemaName)
	}
	major, _, ok := strings.Cut(h.Version, ".")
	if n, err := strconv.Atoi(major); err != nil || !ok || n != VersionMajor {
		return nil, tr.errf("unsupported trace version %q: this stormproof reads version %d.x", h.Version, VersionMajor)
	}
	if _, err := model.ParseAuthRule(h.Authorized); err != nil {
		return nil, tr.errf("header: field \"authorized\": %v", err)
	}
	if h.Devices < 0 || h.Devices > 1<<28 || h.Accounts < 0 || h.Accounts > 1<<28 {
		return nil, tr.errf("header: devices and accounts must be in 0..%d", 1<<28)
	}
	return tr, nil
}

func shortJSONErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// Line is the number of the line read last (the header is line 1).
func (tr *Reader) Line() int { return tr.line }

func (tr *Reader) errf(format string, a ...any) error {
	return &Error{File: tr.file, Line: tr.line, Msg: fmt.Sprintf(format, a...)}
}

func (tr *Reader) readLine() ([]byte, error) {
	for {
		line, err := tr.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: collect it.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = tr.r.ReadSlice('\n')
				long = append(long, line...)
				if len(long) > 16<<20 {
					tr.line++
					return nil, tr.errf("line longer than 16 MiB")
				}
			}
			line = long
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, io.EOF
			}
			tr.line++
			return nil, tr.errf("truncated line (no newline at end of file)")
		}
		if err != nil {
			return nil, err
		}
		tr.line++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return line, nil
	}
}

// Next reads the next event into ev. It returns io.EOF at the end, or an
// *Error naming the line.
func (tr *Reader) Next(ev *Event) error {
	line, err := tr.readLine()
	if err != nil {
		return err
	}
	*ev = Event{}
	tr.p = parser{b: line}
	if msg := tr.p.event(ev); msg != "" {
		return tr.errf("%s", msg)
	}
	if msg := checkRanges(&tr.Header, &ev.Obs, tr.p.seen); msg != "" {
		return tr.errf("%s: %s", ev.Obs.Kind, msg)
	}
	if ev.T < tr.lastT {
		return tr.errf("event at t=%d is before the previous event (t=%d): events must be in time order", ev.T, tr.lastT)
	}
	tr.lastT = ev.T
	return nil
}

// ReadAll reads every event.
func (tr *Reader) ReadAll() ([]Event, error) {
	var out []Event
	for {
		var ev Event
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

// parser is a small JSON scanner for event lines, several times faster than
// encoding/json on this flat shape. Unknown keys are skipped (a later minor
// version may add them); unknown kinds are errors.
type parser struct {
	b    []byte
	i    int
	seen field // the keys of the event read, as a set
	// tooMany: an owner set listed more accounts than model.MaxOwners.
	tooMany bool
}

func (p *parser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) str() (string, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	start := p.i
	p.i++
	esc := false
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '\\':
			esc = true
			p.i += 2
			continue
		case '"':
			p.i++
			if esc {
				s, err := strconv.Unquote(string(p.b[start:p.i]))
				return s, err == nil
			}
			return string(p.b[start+1 : p.i-1]), true
		}
		p.i++
	}
	return "", false
}

func (p *parser) num() (int64, bool) {
	p.ws()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == start {
		return 0, false
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	v, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	return v, err == nil
}

func (p *parser) u32() (uint32, bool) {
	v, ok := p.num()
	if !ok || v < 0 || v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

func (p *parser) boolean() (bool, bool) {
	p.ws()
	switch {
	case bytes.HasPrefix(p.b[p.i:], []byte("true")):
		p.i += 4
		return true, true
	case bytes.HasPrefix(p.b[p.i:], []byte("false")):
		p.i += 5
		return false, true
	}
	return false, false
}

func (p *parser) owners() (model.Owners, bool) {
	var o model.Owners
	if !p.eat('[') {
		return o, false
	}
	if p.eat(']') {
		return o, true
	}
	for {
		v, ok := p.u32()
		if !ok {
			return o, false
		}
		if o.N >= model.MaxOwners {
			p.tooMany = true
			return o, false
		}
		o.IDs[o.N] = model.AccountID(v)
		o.N++
		if p.eat(']') {
			return o, true
		}
		if !p.eat(',') {
			return o, false
		}
	}
}

// fields reads a document's field names (["email","token"]).
func (p *parser) fields() (model.DocFields, bool) {
	var f model.DocFields
	if !p.eat('[') {
		return 0, false
	}
	if p.eat(']') {
		return 0, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return 0, false
		}
		v, known := model.ParseField(s)
		if !known {
			return 0, false
		}
		f |= v
		if p.eat(']') {
			return f, true
		}
		if !p.eat(',') {
			return 0, false
		}
	}
}

// skip skips one JSON value of any shape.
func (p *parser) skip() bool {
	p.ws()
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{' || c == '[':
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return true
				}
			case '"':
				if _, ok := p.str(); !ok {
					return false
				}
				continue
			}
			p.i++
		}
		return false
	case c == 't' || c == 'f':
		_, ok := p.boolean()
		return ok
	case c == 'n':
		if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
			p.i += 4
			return true
		}
		return false
	default:
		start := p.i
		for p.i < len(p.b) && strings.IndexByte("+-.0123456789eE", p.b[p.i]) >= 0 {
			p.i++
		}
		return p.i > start
	}
}

func (p *parser) object(field func(key string) string) string {
	if !p.eat('{') {
		return "malformed event: not a JSON object"
	}
	if p.eat('}') {
		return ""
	}
	for {
		key, ok := p.str()
		if !ok || !p.eat(':') {
			return "malformed JSON (truncated line?)"
		}
		if msg := field(key); msg != "" {
			return msg
		}
		if p.eat('}') {
			return ""
		}
		if !p.eat(',') {
			return "malformed JSON (truncated line?)"
		}
	}
}

func (p *parser) val(v *model.CacheValue) string {
	return p.object(func(key string) string {
		var ok bool
		switch key {
		case "dev":
			var d uint32
			d, ok = p.u32()
			v.Device = model.DeviceID(d)
		case "own":
			v.Owners, ok = p.owners()
		case "ver":
			v.Version, ok = p.u32()
		default:
			ok = p.skip()
		}
		if !ok {
			if p.tooMany {
				return fmt.Sprintf("field \"val.%s\": more than %d accounts (an owner set holds at most %d: the owner and shares)", key, model.MaxOwners, model.MaxOwners)
			}
			return fmt.Sprintf("field \"val.%s\": bad value", key)
		}
		return ""
	})
}

func (p *parser) event(ev *Event) string {
	o := &ev.Obs
	var haveT, haveK bool
	var kind string
	msg := p.object(func(key string) string {
		ok := true
		var u uint32
		var s string
		f := fieldOf(key)
		if f != 0 && p.seen&f != 0 {
			return fmt.Sprintf("field %q given twice", key)
		}
		p.seen |= f
		switch key {
		case "t":
			var t int64
			t, ok = p.num()
			if ok && t < 0 {
				return "field t: negative time"
			}
			ev.T, haveT = model.Time(t), ok
		case "k":
			kind, ok = p.str()
			if ok {
				var known bool
				o.Kind, known = model.ParseObsKind(kind)
				if !known {
					return fmt.Sprintf("unknown event kind %q", kind)
				}
				haveK = true
			}
		case "a", "peer":
			s, ok = p.str()
			if ok {
				var a model.Addr
				a, ok = parseAddr(s)
				if key == "a" {
					o.Actor = a
				} else {
					o.Peer = a
				}
			}
		case "dev":
			u, ok = p.u32()
			o.Device = model.DeviceID(u)
		case "seq":
			o.Seq, ok = p.u32()
		case "acct":
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == '"' {
				s, ok = p.str()
				ok = ok && s == "anonymous"
				o.Account = model.NoAccount
			} else {
				u, ok = p.u32()
				o.Account = model.AccountID(u)
			}
		case "conn":
			u, ok = p.u32()
			ok = ok && u <= math.MaxUint16
			o.Conn = uint16(u)
		case "gen", "try":
			o.Gen, ok = p.u32()
		case "tok":
			o.Token, ok = p.u32()
		case "slot", "sess", "doc", "reads":
			o.Slot, ok = p.u32()
		case "to":
			o.To, ok = p.owners()
		case "fields":
			o.Fields, ok = p.fields()
		case "key":
			u, ok = p.u32()
			o.Key = model.DeviceID(u)
		case "ver":
			o.Version, ok = p.u32()
		case "of":
			o.ReplyOf, ok = p.u32()
		case "ofkey":
			u, ok = p.u32()
			o.ReplyKey = model.DeviceID(u)
		case "own":
			o.Owners, ok = p.owners()
		case "val":
			if m := p.val(&o.Val); m != "" {
				return m
			}
		case "op":
			s, ok = p.str()
			if ok {
				o.Op, ok = model.ParseOp(s)
			}
		case "out":
			s, ok = p.str()
			if ok {
				o.Outcome, ok = model.ParseOutcome(s)
			}
		case "why":
			s, ok = p.str()
			if ok {
				o.Reason, ok = model.ParseReason(s)
			}
		case "view":
			s, ok = p.str()
			switch {
			case !ok:
			case s == "video":
				o.View = model.ViewVideo
			case s == "enlarged":
				o.View = model.ViewEnlarged
			default:
				ok = false
			}
		case "fault":
			s, ok = p.str()
			if ok {
				o.Fault.Kind, ok = model.ParseFault(s)
			}
		case "video", "dup", "found", "quiet", "shared", "defective":
			o.Flag, ok = p.boolean()
		default:
			ok = p.skip()
		}
		if !ok {
			if p.tooMany {
				return fmt.Sprintf("field %q: more than %d accounts (an owner set holds at most %d: the owner and shares)", key, model.MaxOwners, model.MaxOwners)
			}
			return fmt.Sprintf("field %q: bad value", key)
		}
		return ""
	})
	if msg != "" {
		return msg
	}
	p.ws()
	if p.i != len(p.b) {
		return "malformed JSON: text after the event object"
	}
	if !haveK {
		return `event without a kind ("k")`
	}
	if !haveT {
		return `event without a time ("t")`
	}
	if f := missing(o, p.seen); f != "" {
		return fmt.Sprintf("%s event without its required field %q", kind, f)
	}
	if o.Kind == model.ObsFault {
		switch o.Fault.Kind {
		case model.FaultTransfer:
			o.Fault.Device, o.Fault.Owners = o.Device, o.Owners
		case model.FaultLogin:
			o.Fault.Account, o.Fault.Session = o.Account, o.Slot
		}
	}
	return ""
}

func parseAddr(s string) (model.Addr, bool) {
	for _, pre := range []struct {
		p string
		k model.Kind
	}{{"cam", model.KindCamera}, {"acct", model.KindApp}, {"worker", model.KindWorker}} {
		if rest, ok := strings.CutPrefix(s, pre.p); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			n, err := strconv.ParseUint(rest, 10, 32)
			return model.Addr{Kind: pre.k, Index: uint32(n)}, err == nil
		}
	}
	k, ok := model.ParseKind(s)
	return model.Addr{Kind: k}, ok && k != model.KindNone
}
