package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// Camera timers are armed, cancelled and re-armed in place (an entry still
// queued carries the later deadline): they must fire exactly when a plain
// "one entry per arming" queue would, and cancelled timers must not pile up.
func TestCameraTimersFireAsArmed(t *testing.T) {
	type fire struct {
		cam uint32
		id  uint16
		at  model.Time
	}
	for seed := uint64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		// On odd seeds every arming is later than the timer's last one, as
		// an upload timeout's is: then one entry per timer is ever queued.
		monotone := seed%2 == 1
		const cams, timers = 5, 3
		e := &Engine{q: newCalendar(), cams: make([]camSlot, cams)}
		want := map[[2]int]model.Time{} // the reference: deadline of each armed timer
		var got, exp []fire
		now := model.Time(0)
		// drain fires everything due by `until`, in the engine's way and in
		// the reference's (deadlines are distinct, so time order is the order).
		drain := func(until model.Time) {
			for e.q.len() > 0 {
				h := e.q.peek()
				if !e.camDue(h) {
					continue
				}
				if h.at > until {
					break
				}
				it := e.q.pop()
				e.cams[it.to.Index].fired(it.timer)
				got = append(got, fire{it.to.Index, it.timer, it.at})
			}
			var due []fire
			for k, at := range want {
				if at <= until {
					due = append(due, fire{uint32(k[0]), uint16(k[1]), at})
					delete(want, k)
				}
			}
			slices.SortFunc(due, func(a, b fire) int { return int(a.at - b.at) })
			exp = append(exp, due...)
			now = until
		}
		for op := 0; op < 3000; op++ {
			cam, id := r.IntN(cams), r.IntN(timers)
			switch r.IntN(4) {
			case 0, 1: // arm (re-arm) at a distinct time
				at := now + 1 + model.Time(r.Int64N(1<<26))<<4 + model.Time(op)
				if last := e.cams[cam].at[id]; monotone && at <= last {
					at = last + 1 + model.Time(r.Int64N(1<<26))<<4 + model.Time(op)
				}
				e.setCamTimer(uint32(cam), uint16(id), at)
				want[[2]int{cam, id}] = at
			case 2:
				e.cams[cam].armed &^= 1 << id
				delete(want, [2]int{cam, id})
			case 3:
				drain(now + model.Time(r.Int64N(1<<31)))
			}
			if monotone && e.q.len() > cams*timers {
				t.Fatalf("seed %d: %d entries queued for %d timers", seed, e.q.len(), cams*timers)
			}
		}
		drain(1 << 62)
		if !slices.Equal(got, exp) {
			t.Fatalf("seed %d: fired %v\nwant %v", seed, got, exp)
		}
		if len(got) < 100 {
			t.Fatalf("seed %d: only %d timers fired", seed, len(got))
		}
	}
}
