package sim

import (
	"math"
	"sort"
	"time"

	"github.com/stormproof/stormproof/model"
)

// Bin is the resolution of the time series.
const Bin = 10 * time.Second

// Series is the run over time, one entry per Bin.
type Series struct {
	BinSeconds float64 `json:"bin_seconds"`
	// ConnectAttempts and Connects per bin; Connected: cameras connected at
	// the end of the bin.
	ConnectAttempts []int64 `json:"connect_attempts"`
	Connects        []int64 `json:"connects"`
	Connected       []int64 `json:"connected"`
	CacheCalls      []int64 `json:"cache_calls"`
	CacheTimeouts   []int64 `json:"cache_timeouts"`
	// CacheP50/P99: latency of the cache calls that returned in the bin, ms.
	CacheP50          []float64 `json:"cache_p50_ms"`
	CacheP99          []float64 `json:"cache_p99_ms"`
	ForeignDeliveries []int64   `json:"foreign_deliveries"`
	Deliveries        []int64   `json:"deliveries"`
}

// latHist is a log-bucketed latency histogram (≈4% resolution, 1 µs–1 h).
type latHist [400]int32

var logStep = math.Log(1.04)

func latBucket(ns int64) int {
	if ns < 1000 {
		return 0
	}
	return min(399, int(math.Log(float64(ns)/1000)/logStep))
}

func (h *latHist) quantile(q float64) float64 {
	var n int64
	for _, c := range h {
		n += int64(c)
	}
	if n == 0 {
		return 0
	}
	target := int64(q*float64(n-1)) + 1
	var acc int64
	for b, c := range h {
		acc += int64(c)
		if acc >= target {
			return math.Exp(float64(b)*logStep) / 1000 // bucket lower edge, µs → ms
		}
	}
	return 0
}

// metrics accumulates the summary and series from the observations.
type metrics struct {
	mon       *model.Monitor
	devices   int
	accounts  []uint8 // cohort bits
	bins      int
	s         Series
	lat       []*latHist // per bin, allocated when a cache call returns in it (a 23-day run has 200k bins)
	camUp     []bool
	callAt    map[uint64]model.Time
	connDelta []int64 // change of the connected count in each bin

	captured, delivered, stored, dups, uploads      int64
	drops                                           map[string]int64
	refused                                         map[string]int64
	cacheCalls, cacheTimeouts, cacheErrors, misread int64
	regReads, cacheShed                             int64
	foreignPush, foreignTaps, foreignEnlarged       int64
	foreignVideos, views, taps, viewRefused         int64
	attemptsBySec, connectsBySec                    []int32

	inc incidentMetrics // the other incidents' counts (incidents_metrics.go)
}

const (
	cohortReceived uint8 = 1 << iota // received a stranger's thumbnail
	cohortExposed                    // own thumbnail pushed to a stranger
	cohortTapped                     // a stranger tapped own thumbnail
)

func newMetrics(mon *model.Monitor, devices, accounts int, dur time.Duration) *metrics {
	bins := int(dur/Bin) + 1
	m := &metrics{
		mon: mon, devices: devices, accounts: make([]uint8, accounts), bins: bins,
		lat: make([]*latHist, bins), camUp: make([]bool, devices), callAt: map[uint64]model.Time{},
		connDelta: make([]int64, bins),
		drops:     map[string]int64{}, refused: map[string]int64{},
		attemptsBySec: make([]int32, int(dur/time.Second)+1),
		connectsBySec: make([]int32, int(dur/time.Second)+1),
	}
	m.s = Series{BinSeconds: Bin.Seconds(),
		ConnectAttempts: make([]int64, bins), Connects: make([]int64, bins), Connected: make([]int64, bins),
		CacheCalls: make([]int64, bins), CacheTimeouts: make([]int64, bins),
		CacheP50: make([]float64, bins), CacheP99: make([]float64, bins),
		ForeignDeliveries: make([]int64, bins), Deliveries: make([]int64, bins)}
	return m
}

func (m *metrics) bin(t model.Time) int {
	b := int(time.Duration(t) / Bin)
	if b >= m.bins {
		b = m.bins - 1
	}
	return b
}

func (m *metrics) camState(d model.DeviceID, up bool, b int) {
	if int(d) < len(m.camUp) && m.camUp[d] != up {
		m.camUp[d] = up
		if up {
			m.connDelta[b]++
		} else {
			m.connDelta[b]--
		}
	}
}

// observe is called for every observation, after the monitor.
func (m *metrics) observe(t model.Time, o *model.Obs, vs []model.Violation) {
	b := m.bin(t)
	switch o.Kind {
	case model.ObsConnTry:
		m.s.ConnectAttempts[b]++
		if s := int(time.Duration(t) / time.Second); s < len(m.attemptsBySec) {
			m.attemptsBySec[s]++
		}
	case model.ObsConnOK:
		m.s.Connects[b]++
		if s := int(time.Duration(t) / time.Second); s < len(m.connectsBySec) {
			m.connectsBySec[s]++
		}
		m.camState(o.Device, true, b)
	case model.ObsLinkDown, model.ObsSleep:
		m.camState(o.Device, false, b)
	case model.ObsCapture:
		m.captured++
	case model.ObsUpload:
		m.uploads++
	case model.ObsDrop:
		m.drops[o.Reason.String()]++
	case model.ObsRefused:
		m.refused[o.Reason.String()]++
	case model.ObsStore:
		if o.Flag {
			m.dups++
		} else {
			m.stored++
		}
	case model.ObsCacheCall:
		m.cacheCalls++
		m.s.CacheCalls[b]++
		m.callAt[connKey(o)] = t
	case model.ObsCacheRet:
		if at, ok := m.callAt[connKey(o)]; ok {
			if m.lat[b] == nil {
				m.lat[b] = new(latHist)
			}
			m.lat[b][latBucket(int64(t-at))]++
			delete(m.callAt, connKey(o))
		}
		switch o.Outcome {
		case model.OutTimeout:
			m.cacheTimeouts++
			m.s.CacheTimeouts[b]++
		case model.OutError:
			if o.Reason == model.ReasonPoolExhausted {
				m.cacheShed++
			} else {
				m.cacheErrors++
			}
		}
		if o.ReplyOf != 0 && (o.ReplyOf != o.Token || o.ReplyKey != o.Key) {
			m.misread++
		}
	case model.ObsRegCall:
		m.regReads++
	case model.ObsDeliver:
		if len(vs) == 0 || vs[0].Inv != model.NoForeignDelivery {
			m.delivered++
			m.s.Deliveries[b]++
		}
	case model.ObsTap:
		m.taps++
		if !m.mon.Authorized(o.Device, o.Seq, o.Account) {
			m.foreignTaps++
			auth := m.mon.AuthorizedAtCapture(o.Device, o.Seq)
			for _, a := range auth.IDs[:auth.N] {
				m.mark(a, cohortTapped)
			}
		}
	case model.ObsView:
		m.views++
	case model.ObsViewRefused:
		m.viewRefused++
	case model.ObsFault, model.ObsWebLookup, model.ObsStream, model.ObsStreamRefused, model.ObsNotify,
		model.ObsRead, model.ObsReadRefused, model.ObsAlarm, model.ObsConfigRefused:
		m.inc.observe(m, t, o, vs)
	}
	for _, v := range vs {
		switch v.Inv {
		case model.NoForeignDelivery:
			m.foreignPush++
			m.s.ForeignDeliveries[b]++
			m.mark(v.Account, cohortReceived)
			for _, a := range v.Authorized.IDs[:v.Authorized.N] {
				m.mark(a, cohortExposed)
			}
		case model.NoForeignView:
			if v.View == model.ViewVideo {
				m.foreignVideos++
			} else {
				m.foreignEnlarged++
			}
		}
	}
}

func connKey(o *model.Obs) uint64 {
	return uint64(o.Actor.Index)<<48 | uint64(o.Conn)<<32 | uint64(o.Gen)
}

func (m *metrics) mark(a model.AccountID, bit uint8) {
	if int(a) < len(m.accounts) {
		m.accounts[a] |= bit
	}
}

// finishSeries fills the last gauges and the latency quantiles.
func (m *metrics) finishSeries() {
	// Observations may arrive out of time order (a camera fast-forwarded
	// through an outage), so the gauge is summed from per-bin changes.
	var c int64
	for b, d := range m.connDelta {
		c += d
		m.s.Connected[b] = c
	}
	for b := range m.s.CacheP50 {
		if h := m.lat[b]; h != nil {
			m.s.CacheP50[b] = h.quantile(0.5)
			m.s.CacheP99[b] = h.quantile(0.99)
		}
	}
}

// Cohorts are the four groups of the 2024 notice. An account can be in
// more than one (it may both receive and have its own thumbnails exposed).
type Cohorts struct {
	Unaffected       int `json:"unaffected"`
	ExposedNotTapped int `json:"own_thumbnails_exposed_not_tapped"`
	ExposedTapped    int `json:"own_thumbnails_exposed_and_tapped"`
	ReceivedOthers   int `json:"received_others_thumbnails"`
	Affected         int `json:"affected_any"`
}

func (m *metrics) cohorts() Cohorts {
	var c Cohorts
	for _, bits := range m.accounts {
		if bits == 0 {
			c.Unaffected++
			continue
		}
		c.Affected++
		if bits&cohortExposed != 0 {
			if bits&cohortTapped != 0 {
				c.ExposedTapped++
			} else {
				c.ExposedNotTapped++
			}
		}
		if bits&cohortReceived != 0 {
			c.ReceivedOthers++
		}
	}
	return c
}

// peakAfter is the highest per-second count at or after `from`, and when.
func peakAfter(bySec []int32, from time.Duration) (peak float64, at time.Duration) {
	for s := int(from / time.Second); s < len(bySec); s++ {
		if float64(bySec[s]) > peak {
			peak, at = float64(bySec[s]), time.Duration(s)*time.Second
		}
	}
	return
}

// reconnect returns the peak attempts/s (1 s bins) and when, and the mean
// rate before from (the steady state).
func (m *metrics) reconnect(from time.Duration) (peak float64, at time.Duration, steady float64) {
	peak, at = peakAfter(m.attemptsBySec, 0)
	secs := int(from / time.Second)
	if secs > len(m.attemptsBySec) {
		secs = len(m.attemptsBySec)
	}
	// Skip the first minute: a run that starts booting has its own burst.
	start := 60
	if start >= secs {
		start = 0
	}
	var total int64
	for _, n := range m.attemptsBySec[start:secs] {
		total += int64(n)
	}
	if secs > start {
		steady = float64(total) / float64(secs-start)
	}
	return
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
