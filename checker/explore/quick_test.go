package explore

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestQuick(t *testing.T) {
	cfg, err := Load(os.Getenv("XCFG"))
	if err != nil {
		t.Fatal(err)
	}
	var mit []string
	if m := os.Getenv("XMIT"); m != "" {
		mit = strings.Split(m, ",")
	}
	cfg, err = cfg.Override(os.Getenv("XCLIENT"), mit)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Run(cfg, Options{Search: SearchOptions{MaxStates: 8_000_000, Progress: func(p Progress) { println(p.Depth, p.Distinct, p.Frontier, time.Since(start).String()) }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v %v group %d", res.Search, time.Since(start), res.Group)
	if ce := res.Counterexample; ce != nil {
		t.Logf("violation: %v", ce.Violation)
		for i, s := range ce.Steps {
			t.Logf("%d %s", i+1, s.What)
		}
	}
}
