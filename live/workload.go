package live

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces"
)

// Workload is the camera side of a scenario: what the fleet did, in the
// scenario's time. It is taken from the simulator's run of the scenario
// (same scenario and seed ⇒ same workload), so the live service meets the
// storm the model predicts: captures, buffering through the outage, the
// reconnect storm and its backlog of uploads.
type Workload struct {
	Devices, Accounts int
	// Initial is every device's owner set at the start.
	Initial []model.Owners
	// Events are the camera-side observations (capture, drop, upload,
	// conn-ok, conn-reject, link-down, sleep), ownership changes and the
	// gateway faults, in time order. Connect attempts (conn-try, about a
	// million in the default scenario) are left out: the service never
	// sees them.
	Events []traces.Event
	// Captures and Uploads count those events.
	Captures, Uploads int
	// Duration is the scenario's length; StormAt when the first gateway
	// outage ends (0 without one).
	Duration, StormAt time.Duration
	// CacheOutages are the scenario's cache outages, in scenario time.
	CacheOutages []sim.Outage
}

// BuildWorkload runs the simulator on s and keeps the camera side.
func BuildWorkload(s *sim.Scenario) (*Workload, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := sim.Run(s, sim.RunOptions{Detail: "full", Trace: pw})
		pw.CloseWithError(err)
		done <- err
	}()
	w, err := readWorkload(pr)
	pr.CloseWithError(errors.New("workload read")) // unblocks the simulator if reading stopped early
	if simErr := <-done; simErr != nil && err == nil {
		err = simErr
	}
	if err != nil {
		return nil, fmt.Errorf("workload of scenario %s: %w", s.Name, err)
	}
	w.Duration = s.Duration.D()
	for _, o := range s.Outages {
		if o.Component == "cache" {
			w.CacheOutages = append(w.CacheOutages, o)
		}
	}
	return w, nil
}

func readWorkload(r io.Reader) (*Workload, error) {
	tr, err := traces.NewReader(r, "simulator")
	if err != nil {
		return nil, err
	}
	w := &Workload{Devices: tr.Header.Devices, Accounts: tr.Header.Accounts, Initial: make([]model.Owners, tr.Header.Devices)}
	known := make([]bool, w.Devices)
	down := false
	for {
		var ev traces.Event
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			return w, nil
		}
		if err != nil {
			return nil, err
		}
		o := &ev.Obs
		switch o.Kind {
		case model.ObsOwn:
			if int(o.Device) >= w.Devices {
				return nil, fmt.Errorf("line %d: device %d out of range", tr.Line(), o.Device)
			}
			if !known[o.Device] {
				known[o.Device], w.Initial[o.Device] = true, o.Owners
				continue
			}
		case model.ObsCapture:
			w.Captures++
		case model.ObsUpload:
			w.Uploads++
		case model.ObsDrop, model.ObsConnOK, model.ObsConnReject, model.ObsLinkDown, model.ObsSleep:
		case model.ObsFault:
			switch o.Fault.Kind {
			case model.FaultGatewayDown:
				down = true
			case model.FaultGatewayUp:
				if down && w.StormAt == 0 {
					w.StormAt = time.Duration(ev.T)
				}
				down = false
			case model.FaultTransfer, model.FaultQuiesce:
			default:
				continue // cache faults become drop windows
			}
		default:
			continue
		}
		w.Events = append(w.Events, ev)
	}
}
