package explore

import "testing"

func TestSize(t *testing.T) {
	cfg, _ := Load("small")
	s, _ := newModelSys(cfg, true)
	b, _, _ := s.Initial()
	t.Logf("init %d bytes: %v", len(b), b)
	x := s.newExpander()
	x.Expand(b, func(n []byte, o uint32, bad bool) { t.Logf("succ %d bytes", len(n)) })
}
