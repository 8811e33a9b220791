package traces

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"

	"github.com/stormproof/stormproof/model"
)

// Writer writes a trace. It is not safe for concurrent use.
type Writer struct {
	w     *bufio.Writer
	buf   []byte
	lines int64
}

// NewWriter writes h as the first line of w.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Schema = SchemaName
	h.Version = Version
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	tw := &Writer{w: bufio.NewWriterSize(w, 1<<20)}
	tw.w.Write(b)
	tw.w.WriteByte('\n')
	return tw, nil
}

// Write appends one event.
func (tw *Writer) Write(t model.Time, o *model.Obs) error {
	tw.buf = AppendEvent(tw.buf[:0], t, o)
	tw.lines++
	_, err := tw.w.Write(tw.buf)
	return err
}

// Lines is the number of events written.
func (tw *Writer) Lines() int64 { return tw.lines }

// Flush writes buffered data to the underlying writer.
func (tw *Writer) Flush() error { return tw.w.Flush() }

// AppendEvent appends the JSON line (with its newline) of one event.
func AppendEvent(b []byte, t model.Time, o *model.Obs) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, int64(t), 10)
	b = append(b, `,"k":"`...)
	b = append(b, o.Kind.String()...)
	b = append(b, `","a":"`...)
	b = appendAddr(b, o.Actor)
	b = append(b, '"')
	num := func(key string, v uint64) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendUint(b, v, 10)
	}
	str := func(key, v string) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, `":"`...)
		b = append(b, v...)
		b = append(b, '"')
	}
	flag := func(key string, v bool) {
		if v {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, `":true`...)
		}
	}
	owners := func(key string, ow model.Owners) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, `":[`...)
		for i := uint8(0); i < ow.N; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(ow.IDs[i]), 10)
		}
		b = append(b, ']')
	}
	val := func(v model.CacheValue) {
		b = append(b, `,"val":{"dev":`...)
		b = strconv.AppendUint(b, uint64(v.Device), 10)
		owners("own", v.Owners)
		b = append(b, `,"ver":`...)
		b = strconv.AppendUint(b, uint64(v.Version), 10)
		b = append(b, '}')
	}
	reason := func() {
		if o.Reason != model.ReasonNone {
			str("why", o.Reason.String())
		}
	}
	ev := func() {
		num("dev", uint64(o.Device))
		num("seq", uint64(o.Seq))
	}
	acct := func() {
		if o.Account == model.NoAccount {
			str("acct", "anonymous")
		} else {
			num("acct", uint64(o.Account))
		}
	}
	conn := func() {
		num("conn", uint64(o.Conn))
		num("gen", uint64(o.Gen))
	}
	switch o.Kind {
	case model.ObsOwn:
		num("dev", uint64(o.Device))
		owners("own", o.Owners)
		num("ver", uint64(o.Version))
	case model.ObsCapture:
		ev()
		flag("video", o.Flag)
	case model.ObsDrop:
		ev()
		reason()
	case model.ObsConnTry, model.ObsConnOK, model.ObsConnReject:
		num("dev", uint64(o.Device))
		num("gen", uint64(o.Gen))
	case model.ObsLinkDown:
		num("dev", uint64(o.Device))
		reason()
	case model.ObsSleep:
		num("dev", uint64(o.Device))
	case model.ObsUpload:
		ev()
		num("try", uint64(o.Gen))
	case model.ObsCacheCall:
		conn()
		num("tok", uint64(o.Token))
		str("op", o.Op.String())
		num("key", uint64(o.Key))
		if o.Op == model.OpSet {
			val(o.Val)
		}
	case model.ObsCacheRet:
		conn()
		num("tok", uint64(o.Token))
		str("op", o.Op.String())
		num("key", uint64(o.Key))
		str("out", o.Outcome.String())
		if o.Outcome == model.OutHit {
			val(o.Val)
		}
		if o.ReplyOf != 0 {
			num("of", uint64(o.ReplyOf))
			num("ofkey", uint64(o.ReplyKey))
		}
		reason()
	case model.ObsCacheClose:
		conn()
		reason()
	case model.ObsCacheServe:
		b = append(b, `,"peer":"`...)
		b = appendAddr(b, o.Peer)
		b = append(b, '"')
		conn()
		num("tok", uint64(o.Token))
		str("op", o.Op.String())
		num("key", uint64(o.Key))
		flag("found", o.Flag)
		if o.Flag && o.Op != model.OpDel {
			val(o.Val)
		}
	case model.ObsRegCall:
		num("slot", uint64(o.Slot))
		num("key", uint64(o.Key))
	case model.ObsRegRet:
		num("slot", uint64(o.Slot))
		num("key", uint64(o.Key))
		owners("own", o.Owners)
		num("ver", uint64(o.Version))
	case model.ObsLookup:
		ev()
		num("slot", uint64(o.Slot))
		str("out", o.Outcome.String())
		owners("own", o.Owners)
		num("ver", uint64(o.Version))
		if o.Outcome == model.OutCache {
			val(o.Val)
			if o.Token != 0 || o.ReplyOf != 0 {
				// The request whose hit the lookup used; of/ofkey only when
				// the client knows whose reply that hit was.
				conn()
				num("tok", uint64(o.Token))
				if o.ReplyOf != 0 {
					num("of", uint64(o.ReplyOf))
					num("ofkey", uint64(o.ReplyKey))
				}
			}
		}
		reason()
	case model.ObsStore:
		ev()
		flag("dup", o.Flag)
	case model.ObsDeliver:
		ev()
		acct()
	case model.ObsRefused:
		ev()
		acct()
		reason()
	case model.ObsTap, model.ObsView:
		ev()
		acct()
		str("view", o.View.String())
	case model.ObsWitness:
		ev()
		acct()
	case model.ObsViewRefused:
		ev()
		acct()
		str("view", o.View.String())
		reason()
	case model.ObsEnd:
		flag("quiet", o.Flag)
	case model.ObsFault:
		str("fault", o.Fault.Kind.String())
		switch o.Fault.Kind {
		case model.FaultTransfer:
			num("dev", uint64(o.Fault.Device))
			owners("own", o.Fault.Owners)
		case model.FaultLogin:
			num("acct", uint64(o.Fault.Account))
			num("sess", uint64(o.Fault.Session))
		}
	case model.ObsWebLookup:
		num("sess", uint64(o.Slot))
		acct()
		num("dev", uint64(o.Device))
		str("out", o.Outcome.String())
		owners("own", o.Owners)
		flag("shared", o.Flag)
		reason()
	case model.ObsStream, model.ObsStreamRefused:
		num("sess", uint64(o.Slot))
		num("dev", uint64(o.Device))
		acct()
		reason()
	case model.ObsNotify:
		ev()
		owners("own", o.Owners)
		owners("to", o.To)
		flag("defective", o.Flag)
	case model.ObsRead:
		num("doc", uint64(o.Slot))
		acct()
		owners("own", o.Owners)
		b = append(b, `,"fields":[`...)
		for i, n := range o.Fields.Names() {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, n...)
			b = append(b, '"')
		}
		b = append(b, ']')
	case model.ObsReadRefused:
		num("doc", uint64(o.Slot))
		acct()
		reason()
	case model.ObsAlarm:
		num("reads", uint64(o.Slot))
	case model.ObsConfigRefused:
		str("fault", o.Fault.Kind.String())
		reason()
	}
	return append(b, '}', '\n')
}

func appendAddr(b []byte, a model.Addr) []byte {
	switch a.Kind {
	case model.KindCamera:
		return strconv.AppendUint(append(b, "cam"...), uint64(a.Index), 10)
	case model.KindApp:
		return strconv.AppendUint(append(b, "acct"...), uint64(a.Index), 10)
	case model.KindWorker:
		return strconv.AppendUint(append(b, "worker"...), uint64(a.Index), 10)
	}
	return append(b, a.Kind.String()...)
}
