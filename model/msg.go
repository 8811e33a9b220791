package model

import (
	"fmt"
	"strings"
)

// MsgType is the kind of a message.
type MsgType uint8

const (
	MsgNone MsgType = iota
	// camera ⇄ gateway
	MsgConnect // camera→gateway: Gen
	MsgAccept  // gateway→camera: Gen
	MsgReject  // gateway→camera: Gen (admission refused)
	MsgUpload  // camera→gateway→worker: Ev
	MsgAck     // worker→gateway→camera: Ev (stored, or a duplicate)
	// worker ⇄ cache, on connection Conn of generation Gen
	MsgCacheDial
	MsgCacheDialOK // Epoch
	MsgCacheReq    // Req
	MsgCacheReply  // Reply
	MsgCacheReset  // the server does not know this connection (it restarted)
	// registry → cache (mitigation invalidate-on-transfer)
	MsgCacheInvalidate // Req.Key, Req.Val.Version
	// worker ⇄ registry
	MsgRegRead  // Slot, Ev.Device
	MsgRegReply // Slot, Owners, Version
	// worker ⇄ store
	MsgPut      // Slot, Ev
	MsgPutReply // Slot, Flag: duplicate
	// worker → app
	MsgPush // Ev, Account: a thumbnail
	// app ⇄ store ⇄ registry
	MsgView           // Ev, Account, View
	MsgViewCheck      // store→registry: Ev, Account, View
	MsgViewCheckReply // registry→store (or web): Flag: allowed; Slot echoed
	// web ⇄ registry (2023 web live view)
	MsgWebPageReq // web→registry: Account, Slot (session), Flag (asked under the shared key)
	MsgWebPage    // registry→web: the same, and Ev: the account's camera (Device, Stamp: its owners); Stamp.N 0: none
	// worker → notifier (2020 notification service)
	MsgNotify // Ev, Owners: the recipients the worker resolved
	// reader ⇄ replica (2019 analytics copy)
	MsgReplicaRead  // reader→replica: Slot (document), Account (the reader)
	MsgReplicaReply // replica→reader: Slot, Flag: served
	numMsgTypes
)

var msgNames = [...]string{"none", "connect", "accept", "reject", "upload", "ack",
	"cache-dial", "cache-dial-ok", "cache-req", "cache-reply", "cache-reset", "cache-invalidate",
	"reg-read", "reg-reply", "put", "put-reply", "push", "view", "view-check", "view-check-reply",
	"web-page-req", "web-page", "notify", "replica-read", "replica-reply"}

func (t MsgType) String() string {
	if int(t) < len(msgNames) {
		return msgNames[t]
	}
	return fmt.Sprintf("msg(%d)", uint8(t))
}

// CacheOp is a cache command.
type CacheOp uint8

const (
	OpNone CacheOp = iota
	OpGet
	OpSet
	OpDel
)

var opNames = [...]string{"none", "get", "set", "del"}

func (o CacheOp) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "?"
}

// Command is the op as a cache command is written (GET, SET, DEL).
func (o CacheOp) Command() string { return strings.ToUpper(o.String()) }

// ParseOp parses an op name.
func ParseOp(s string) (CacheOp, bool) {
	for i, n := range opNames {
		if n == s {
			return CacheOp(i), true
		}
	}
	return OpNone, false
}

// CacheValue is what the cache holds for a device: its owners as read from
// the registry at Version. Device names the key it was written for; only the
// key-in-value mitigation looks at it.
type CacheValue struct {
	Device  DeviceID
	Owners  Owners
	Version uint32
}

// CacheReq is one cache command on the wire.
type CacheReq struct {
	Op  CacheOp
	Key DeviceID
	Val CacheValue // for OpSet
	// Token numbers the requests of one connection. The server echoes it; only
	// the tagged client compares it.
	Token uint32
}

// CacheReply is the server's answer to the request with the echoed Token.
type CacheReply struct {
	Op    CacheOp
	Key   DeviceID // the key of the request this answers (only key echo users read it)
	Token uint32
	Found bool // get: hit; set: stored
	Val   CacheValue
}

// ViewKind is what a tap fetches.
type ViewKind uint8

const (
	ViewEnlarged ViewKind = iota // the enlarged thumbnail
	ViewVideo                    // the 12 s event clip
	ViewLive                     // a camera's live stream (web view; only verify-on-view's check carries it)
)

func (v ViewKind) String() string {
	switch v {
	case ViewVideo:
		return "video"
	case ViewLive:
		return "live"
	}
	return "enlarged"
}

// Msg is every message of the model as one flat value, so channels are plain
// slices the explorer can copy and hash and the simulator can keep millions of.
type Msg struct {
	Type    MsgType
	From    Addr
	Conn    uint16 // cache connection index within a worker
	Gen     uint32 // camera connect attempt, or cache connection generation
	Epoch   uint32 // cache server incarnation
	Slot    uint32 // worker-local upload slot, echoed by registry and store
	Account AccountID
	Ev      EventRef
	Req     CacheReq
	Reply   CacheReply
	Owners  Owners
	Version uint32
	Flag    bool
	View    ViewKind
}

// InputKind distinguishes the inputs of a Step.
type InputKind uint8

const (
	InInit  InputKind = iota // once, before anything else
	InMsg                    // a message arrived
	InTimer                  // an armed timer fired
	InFault                  // the engine injected a fault
)

// Input is what an actor steps on.
type Input struct {
	Kind  InputKind
	Timer uint16
	Msg   Msg
	Fault Fault
}

// FaultKind is a fault an engine injects.
type FaultKind uint8

const (
	FaultNone         FaultKind = iota
	FaultGatewayDown            // cloud outage begins: gateway down, every camera link lost
	FaultGatewayUp              // outage ends
	FaultLinkDown               // (delivered to a camera) its link to the gateway is gone
	FaultCacheRestart           // cache server restarts cold
	FaultCacheDown              // cache unreachable
	FaultCacheUp                //
	FaultTransfer               // ownership of Device becomes Owners (registry write, camera rebind)
	FaultEventsTabOff           // the events-tab kill switch
	FaultQuiesce                // cameras stop capturing (end of the capture window)
	// Inputs of the other incidents. A login is not a fault but a user's
	// act; it is injected the same way, at a time the scenario draws.
	FaultLogin          // a web session (Session) of Account opens the live-view page (2023)
	FaultWebShared      // the web response cache's key starts omitting the account (2023 mapping fault)
	FaultWebKeyed       // the key includes the account again (fixed)
	FaultNotifierDefect // the notifier deployment with the recipient-join defect goes live (2020)
	FaultNotifierFixed  // it is rolled back
	FaultReplicaAuthOff // a configuration change removes the replica's access control (2019, day 0)
	FaultReplicaAuthOn  // access control is back (found, day 22)
	numFaultKinds
)

var faultNames = [...]string{"none", "gateway-down", "gateway-up", "link-down", "cache-restart",
	"cache-down", "cache-up", "transfer", "events-tab-off", "quiesce",
	"login", "web-cache-shared", "web-cache-keyed", "notifier-defect", "notifier-fixed",
	"replica-auth-off", "replica-auth-on"}

func (f FaultKind) String() string {
	if int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "?"
}

// ParseFault parses a fault name.
func ParseFault(s string) (FaultKind, bool) {
	for i, n := range faultNames {
		if n == s && i > 0 {
			return FaultKind(i), true
		}
	}
	return FaultNone, false
}

// Fault is one injected fault.
type Fault struct {
	Kind   FaultKind
	Device DeviceID // FaultTransfer
	Owners Owners   // FaultTransfer: the new owner set
	// Version is the registry version the transfer wrote; FaultTargets fills
	// it in for the cache (invalidate-on-transfer), which tombstones the key
	// at it.
	Version uint32
	// Account and Session: FaultLogin.
	Account AccountID
	Session uint32
}

// AppendState appends the fields of m the model reads for its type to a
// state encoding (From and Conn are its channel's, so not written): gen
// ranks a connect attempt number or a cache connection's generation, tok
// a cache connection's tokens (nil on other channels).
func (m *Msg) AppendState(b []byte, w *StateWriter, gen, tok *Ranker) []byte {
	b = append(b, byte(m.Type))
	switch m.Type {
	case MsgConnect, MsgAccept, MsgReject, MsgCacheDial, MsgCacheReset:
		b = w.U(b, gen.Rank(m.Gen))
	case MsgUpload, MsgPut:
		b = w.Ev(b, m.Ev)
		b = w.U(b, m.Slot)
	case MsgAck:
		b = w.Dev(b, m.Ev.Device)
		b = w.U(b, m.Ev.Seq)
	case MsgCacheDialOK:
		b = w.U(b, gen.Rank(m.Gen))
		b = w.U(b, m.Epoch)
	case MsgCacheReq:
		b = w.U(b, gen.Rank(m.Gen))
		b = w.U(b, m.Epoch)
		b = w.Req(b, &m.Req, tok)
	case MsgCacheReply:
		b = w.U(b, gen.Rank(m.Gen))
		b = w.Reply(b, &m.Reply, tok)
	case MsgCacheInvalidate:
		b = w.Dev(b, m.Req.Key)
		b = w.U(b, m.Req.Val.Version)
	case MsgRegRead:
		b = w.U(b, m.Slot)
		b = w.Dev(b, m.Ev.Device)
	case MsgRegReply:
		b = w.U(b, m.Slot)
		b = w.Owners(b, m.Owners)
		b = w.U(b, m.Version)
	case MsgPutReply:
		b = w.U(b, m.Slot)
		b = w.Flag(b, m.Flag)
	case MsgPush:
		b = w.Ev(b, m.Ev)
	case MsgView, MsgViewCheck, MsgViewCheckReply:
		b = w.Ev(b, m.Ev)
		b = w.Acct(b, m.Account)
		b = append(b, byte(m.View))
		b = w.Flag(b, m.Flag)
		if m.View == ViewLive {
			b = w.U(b, m.Slot) // the web session a live check is for
		}
	case MsgWebPageReq:
		b = w.Acct(b, m.Account)
		b = w.U(b, m.Slot)
		b = w.Flag(b, m.Flag)
	case MsgWebPage:
		b = w.Acct(b, m.Account)
		b = w.U(b, m.Slot)
		b = w.Flag(b, m.Flag)
		b = w.Dev(b, m.Ev.Device)
		b = w.Owners(b, m.Ev.Stamp)
	case MsgNotify:
		b = w.Ev(b, m.Ev)
		b = w.Owners(b, m.Owners)
	case MsgReplicaRead:
		b = w.U(b, m.Slot)
		b = w.Acct(b, m.Account)
	case MsgReplicaReply:
		b = w.U(b, m.Slot)
		b = w.Flag(b, m.Flag)
	default:
		panic("model: no state encoding for message " + m.Type.String())
	}
	return b
}

// Msg reads what Msg.AppendState wrote: a message of the channel
// from → its receiver on lane conn.
func (r *StateReader) Msg(from Addr, conn uint16) Msg {
	m := Msg{Type: MsgType(r.Byte()), From: from, Conn: conn}
	switch m.Type {
	case MsgConnect, MsgAccept, MsgReject, MsgCacheDial, MsgCacheReset:
		m.Gen = r.U()
	case MsgUpload, MsgPut:
		m.Ev = r.Ev()
		m.Slot = r.U()
	case MsgAck:
		m.Ev.Device = DeviceID(r.U())
		m.Ev.Seq = r.U()
	case MsgCacheDialOK:
		m.Gen = r.U()
		m.Epoch = r.U()
	case MsgCacheReq:
		m.Gen = r.U()
		m.Epoch = r.U()
		m.Req = r.Req()
	case MsgCacheReply:
		m.Gen = r.U()
		m.Reply = r.Reply()
	case MsgCacheInvalidate:
		m.Req.Op = OpDel
		m.Req.Key = DeviceID(r.U())
		m.Req.Val.Device = m.Req.Key
		m.Req.Val.Version = r.U()
	case MsgRegRead:
		m.Slot = r.U()
		m.Ev.Device = DeviceID(r.U())
	case MsgRegReply:
		m.Slot = r.U()
		m.Owners = r.Owners()
		m.Version = r.U()
	case MsgPutReply:
		m.Slot = r.U()
		m.Flag = r.Flag()
	case MsgPush:
		m.Ev = r.Ev()
	case MsgView, MsgViewCheck, MsgViewCheckReply:
		m.Ev = r.Ev()
		m.Account = AccountID(r.U())
		m.View = ViewKind(r.Byte())
		m.Flag = r.Flag()
		if m.View == ViewLive {
			m.Slot = r.U()
		}
	case MsgWebPageReq:
		m.Account = AccountID(r.U())
		m.Slot = r.U()
		m.Flag = r.Flag()
	case MsgWebPage:
		m.Account = AccountID(r.U())
		m.Slot = r.U()
		m.Flag = r.Flag()
		m.Ev.Device = DeviceID(r.U())
		m.Ev.Stamp = r.Owners()
	case MsgNotify:
		m.Ev = r.Ev()
		m.Owners = r.Owners()
	case MsgReplicaRead:
		m.Slot = r.U()
		m.Account = AccountID(r.U())
	case MsgReplicaReply:
		m.Slot = r.U()
		m.Flag = r.Flag()
	default:
		r.Bad = true
	}
	return m
}
