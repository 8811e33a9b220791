package checker

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/stormproof/stormproof/model"
)

// BenchmarkInvariants measures the streaming check without porcupine:
// parsing, model.Monitor and the explainer's bookkeeping, over a trace of
// the default scenario at a tenth of its size. Goal: ≥ 1,000,000 lines/s.
func BenchmarkInvariants(b *testing.B) {
	data := cachedSimTrace(b, "naive-pool")
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Check(bytes.NewReader(data), "bench", Options{NoLinearizability: true})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Held() {
			b.Fatal("naive-pool held")
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkCheckTrace is the whole check, porcupine included, of the same
// trace.
func BenchmarkCheckTrace(b *testing.B) {
	data := cachedSimTrace(b, "naive-pool")
	lines := bytes.Count(data, []byte("\n"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Check(bytes.NewReader(data), "bench", Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// linHistory builds a linearizable cache history of n operations on keys
// keys: each key's operations take effect in order at points inside their
// intervals, which overlap their neighbours'; 5% time out (unknown result,
// Return = MaxInt64), and a timed-out SET takes effect or not.
func linHistory(n, keys int, seed uint64) []porcupine.Operation {
	rng := rand.New(rand.NewPCG(seed, 1))
	ops := make([]porcupine.Operation, 0, n)
	per := n / keys
	for k := 0; k < keys; k++ {
		state := model.LinState{Known: true}
		lin := int64(1000)
		for j := 0; j < per; j++ {
			lin += 1 + rng.Int64N(60)
			call, ret := lin-rng.Int64N(80), lin+rng.Int64N(80)
			in := model.LinIn{Kind: model.LinGet}
			if rng.IntN(10) < 3 {
				in = model.LinIn{Kind: model.LinSet, Val: model.CacheValue{Device: model.DeviceID(k),
					Owners: model.MakeOwners(model.AccountID(rng.IntN(1000))), Version: uint32(j)}}
			}
			out := model.LinOut{}
			timedOut := rng.IntN(20) == 0
			switch {
			case in.Kind == model.LinSet:
				out.Outcome = model.OutStored
				if !timedOut || rng.IntN(2) == 0 {
					state = model.LinState{Known: true, Present: true, Val: in.Val}
				}
			case state.Present:
				out = model.LinOut{Outcome: model.OutHit, Val: state.Val}
			default:
				out.Outcome = model.OutMiss
			}
			if timedOut {
				out, ret = model.LinOut{Outcome: model.OutTimeout}, math.MaxInt64
			}
			ops = append(ops, porcupine.Operation{ClientId: j % 4, Input: in, Output: out, Call: call, Return: ret,
				Metadata: model.LinMeta{Key: uint64(k), Line: len(ops) + 2}})
		}
	}
	return ops
}

// BenchmarkLinearizability1M checks a 1,000,000-operation cache history on
// 50,000 keys. Goal: under 30 s per operation of the benchmark.
func BenchmarkLinearizability1M(b *testing.B) {
	ops := linHistory(1_000_000, 50_000, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := CheckCacheOps(ops, 0)
		if len(res.Violated) != 0 || res.Unknown != 0 || res.Ops != len(ops) {
			b.Fatalf("%d ops, %d violated keys, %d unknown; want a linearizable history", res.Ops, len(res.Violated), res.Unknown)
		}
	}
	b.ReportMetric(float64(len(ops))*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func TestLinHistoryGenerator(t *testing.T) {
	// The generator's histories are linearizable; corrupting one read's
	// value makes its key fail, and only that key.
	ops := linHistory(2000, 100, 7)
	if res := CheckCacheOps(ops, 0); len(res.Violated) != 0 {
		t.Fatalf("generated history not linearizable: %+v", res.Violated[0])
	}
	for i := range ops {
		out := ops[i].Output.(model.LinOut)
		if out.Outcome == model.OutHit && i > len(ops)/2 {
			out.Val.Owners = model.MakeOwners(999_999)
			ops[i].Output = out
			res := CheckCacheOps(ops, 0)
			if len(res.Violated) != 1 || res.Violated[0].Key != ops[i].Metadata.(model.LinMeta).Key {
				t.Fatalf("corrupted read of key %d: %d violated keys", ops[i].Metadata.(model.LinMeta).Key, len(res.Violated))
			}
			return
		}
	}
	t.Fatal("no hit to corrupt")
}
