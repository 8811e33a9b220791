package props

import (
	"fmt"
	"strings"
	"sync"
)

// recorder is a rapid.TB that records a failure instead of failing the
// test, for tests that expect a property to fail.
type recorder struct {
	name   string
	mu     sync.Mutex
	failed bool
	logs   []string
}

// stopped is what FailNow panics with; expectFailure recovers it.
type stopped struct{}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Logf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, a...))
}
func (r *recorder) Log(a ...any)                   { r.Logf("%s", fmt.Sprint(a...)) }
func (r *recorder) Skipf(format string, a ...any)  { r.Logf(format, a...); r.SkipNow() }
func (r *recorder) Skip(a ...any)                  { r.Log(a...); r.SkipNow() }
func (r *recorder) SkipNow()                       { panic("recorder: skipped") }
func (r *recorder) Errorf(format string, a ...any) { r.Logf(format, a...); r.Fail() }
func (r *recorder) Error(a ...any)                 { r.Log(a...); r.Fail() }
func (r *recorder) Fatalf(format string, a ...any) { r.Logf(format, a...); r.FailNow() }
func (r *recorder) Fatal(a ...any)                 { r.Log(a...); r.FailNow() }
func (r *recorder) FailNow()                       { r.Fail(); panic(stopped{}) }
func (r *recorder) Fail()                          { r.mu.Lock(); r.failed = true; r.mu.Unlock() }
func (r *recorder) Failed() bool                   { r.mu.Lock(); defer r.mu.Unlock(); return r.failed }
func (r *recorder) output() string                 { return strings.Join(r.logs, "\n") }

// expectFailure runs f, which fails r, and returns when r stops it.
func expectFailure(r *recorder, f func()) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stopped); !ok {
				panic(p)
			}
		}
	}()
	f()
}
