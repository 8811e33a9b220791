// Command csv2trace turns a delivery log in CSV into a stormproof trace, so
// that `stormproof check` can judge it (docs/production-log.md). It is an
// example to adapt to your own log: it uses only the public packages
// traces and model.
//
//	go run ./examples/csv2trace [-quiet] [-rule capture|capture-or-delivery] LOG.csv > trace.jsonl
//
// The CSV has a header row and the columns
//
//	time,kind,camera,event,account,detail
//
// time is RFC 3339; kind is own (detail: the owners, separated by ";"),
// capture, push (a thumbnail reached account's app), view (detail:
// enlarged or video) or end (the log is whole). Cameras, events and
// accounts are names; the trace numbers them in order of first appearance.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

func main() {
	quiet := flag.Bool("quiet", false, "the log is whole and nothing was in flight at its end: the trace ends quiet, so NoSilentLoss is judged")
	rule := flag.String("rule", "", "the authorization rule written into the header (capture, capture-or-delivery; default capture)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: csv2trace [-quiet] [-rule R] LOG.csv > trace.jsonl")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "csv2trace:", err)
		os.Exit(2)
	}
	defer f.Close()
	if err := Convert(f, flag.Arg(0), os.Stdout, *quiet, *rule); err != nil {
		fmt.Fprintln(os.Stderr, "csv2trace:", err)
		os.Exit(2)
	}
}

// row is one log line.
type row struct {
	line                   int
	t                      time.Time
	kind, cam, ev, account string
	detail                 string
}

// names numbers names in order of first appearance.
type names struct {
	ids   map[string]uint32
	order []string
}

func (n *names) id(s string) uint32 {
	if n.ids == nil {
		n.ids = map[string]uint32{}
	}
	if i, ok := n.ids[s]; ok {
		return i
	}
	i := uint32(len(n.order))
	n.ids[s] = i
	n.order = append(n.order, s)
	return i
}

// Convert reads the CSV log from r and writes its trace to w. Rows are put
// in time order (a log gathered from several services need not be); rows
// of the same time keep their order in the file.
func Convert(r io.Reader, name string, w io.Writer, quiet bool, rule string) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 6
	var rows []row
	ended := false
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if line == 1 {
			if strings.Join(rec, ",") != "time,kind,camera,event,account,detail" {
				return fmt.Errorf("%s:1: the header row must be time,kind,camera,event,account,detail", name)
			}
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, rec[0])
		if err != nil {
			return fmt.Errorf("%s:%d: time: %v", name, line, err)
		}
		rw := row{line, t, rec[1], rec[2], rec[3], rec[4], rec[5]}
		if ended {
			return fmt.Errorf("%s:%d: a row after the end row", name, line)
		}
		if rw.kind == "end" {
			ended = true
		}
		rows = append(rows, rw)
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s: no rows", name)
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.t.Compare(b.t) })

	// Number cameras and accounts first: the header names the fleet.
	var cams, accts names
	for _, rw := range rows {
		if rw.cam != "" {
			cams.id(rw.cam)
		}
		if rw.account != "" {
			accts.id(rw.account)
		}
		if rw.kind == "own" {
			for _, o := range strings.Split(rw.detail, ";") {
				accts.id(o)
			}
		}
	}
	// The header's options keep the names: camera N is cameras[N], account
	// N is accounts[N].
	opts, err := json.Marshal(map[string][]string{"cameras": cams.order, "accounts": accts.order})
	if err != nil {
		return err
	}
	h := traces.Header{Engine: "live", Scenario: "csv " + name, Design: "production", Devices: max(1, len(cams.order)),
		Accounts: max(1, len(accts.order)), Detail: "full", Authorized: rule, Options: opts, Tool: "examples/csv2trace"}
	tw, err := traces.NewWriter(w, h)
	if err != nil {
		return err
	}
	t0 := rows[0].t
	seq := map[uint32]uint32{}      // camera → its next capture's number
	ver := map[uint32]uint32{}      // camera → its next ownership version
	event := map[string][2]uint32{} // event name → camera, number
	for _, rw := range rows {
		o := model.Obs{}
		need := func(field, v string) error {
			if v == "" {
				return fmt.Errorf("%s:%d: %s: missing (a %s row names it)", name, rw.line, field, rw.kind)
			}
			return nil
		}
		switch rw.kind {
		case "own":
			if err := errors.Join(need("camera", rw.cam), need("detail", rw.detail)); err != nil {
				return err
			}
			var ids []model.AccountID
			for _, a := range strings.Split(rw.detail, ";") {
				ids = append(ids, model.AccountID(accts.id(a)))
			}
			if len(ids) > 4 {
				return fmt.Errorf("%s:%d: detail: %d owners; a camera has at most 4 (the owner and three shares)", name, rw.line, len(ids))
			}
			d := cams.id(rw.cam)
			o = model.Obs{Kind: model.ObsOwn, Actor: model.RegistryAddr, Device: model.DeviceID(d), Owners: model.MakeOwners(ids...), Version: ver[d]}
			ver[d]++
		case "capture":
			if err := errors.Join(need("camera", rw.cam), need("event", rw.ev)); err != nil {
				return err
			}
			if _, dup := event[rw.ev]; dup {
				return fmt.Errorf("%s:%d: event: %s captured twice", name, rw.line, rw.ev)
			}
			d := cams.id(rw.cam)
			event[rw.ev] = [2]uint32{d, seq[d]}
			o = model.Obs{Kind: model.ObsCapture, Actor: model.CameraAddr(model.DeviceID(d)), Device: model.DeviceID(d), Seq: seq[d]}
			seq[d]++
		case "push", "view":
			if err := errors.Join(need("event", rw.ev), need("account", rw.account)); err != nil {
				return err
			}
			e, ok := event[rw.ev]
			if !ok {
				return fmt.Errorf("%s:%d: event: %s was never captured in this log (the judge needs its capture to know whose it is)", name, rw.line, rw.ev)
			}
			if rw.cam != "" && cams.id(rw.cam) != e[0] {
				return fmt.Errorf("%s:%d: camera: event %s was captured by %s", name, rw.line, rw.ev, cams.order[e[0]])
			}
			a := model.AccountID(accts.id(rw.account))
			o = model.Obs{Kind: model.ObsDeliver, Actor: model.AppAddr(a), Device: model.DeviceID(e[0]), Seq: e[1], Account: a}
			if rw.kind == "view" {
				o.Kind, o.Actor = model.ObsView, model.StoreAddr
				switch rw.detail {
				case "enlarged":
					o.View = model.ViewEnlarged
				case "video":
					o.View = model.ViewVideo
				default:
					return fmt.Errorf("%s:%d: detail: a view is enlarged or video, have %q", name, rw.line, rw.detail)
				}
			}
		case "end":
			continue
		default:
			return fmt.Errorf("%s:%d: kind: want own, capture, push, view or end, have %q", name, rw.line, rw.kind)
		}
		if err := tw.Write(model.Time(rw.t.Sub(t0)), &o); err != nil {
			return err
		}
	}
	last := rows[len(rows)-1]
	end := model.Obs{Kind: model.ObsEnd, Actor: model.EngineAddr, Flag: quiet}
	if err := tw.Write(model.Time(last.t.Sub(t0)), &end); err != nil {
		return err
	}
	return tw.Flush()
}
