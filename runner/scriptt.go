package runner

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"
)

// ScriptLog is the core of a testscript.T outside `go test`: one script's
// name, log, failure and skip, safe for concurrent use. It gives
// testscript.T's Name, Log, Fatal, FailNow, Skip and Failed; a T built on
// it adds Run, Parallel and Verbose, and its Run recovers the end of a
// script that FailNow and Skip panic with (see Stopped). ScriptT runs
// scripts one at a time; labrun's command line runs them in parallel on
// the same core.
type ScriptLog struct {
	name            string
	failed, skipped atomic.Bool

	mu  sync.Mutex
	log strings.Builder // guarded by mu
}

// NewScriptLog returns the core of the T for the script called name.
func NewScriptLog(name string) *ScriptLog { return &ScriptLog{name: name} }

// errScriptStopped is what FailNow and Skip panic with to end a script.
var errScriptStopped = errors.New("runner: script stopped")

// Stopped reports whether e, a value recovered from a script, is the end
// of the script by FailNow or Skip rather than a panic of its own.
func Stopped(e any) bool { return e == errScriptStopped }

// Name returns the script's name.
func (t *ScriptLog) Name() string { return t.name }

// Log adds args to the log, as fmt.Sprint writes them, ending in a newline.
func (t *ScriptLog) Log(args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	msg := fmt.Sprint(args...)
	t.log.WriteString(msg)
	if !strings.HasSuffix(msg, "\n") {
		t.log.WriteByte('\n')
	}
}

// Fatal logs args and ends the script as failed.
func (t *ScriptLog) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

// FailNow ends the script as failed.
func (t *ScriptLog) FailNow() {
	t.Fail()
	panic(errScriptStopped)
}

// Fail marks the script as failed and lets it go on (as after a panic of
// its own that the T's Run recovered).
func (t *ScriptLog) Fail() { t.failed.Store(true) }

// Skip logs args and ends the script as skipped.
func (t *ScriptLog) Skip(args ...any) {
	t.Log(args...)
	t.skipped.Store(true)
	panic(errScriptStopped)
}

// Failed reports whether the script has failed.
func (t *ScriptLog) Failed() bool { return t.failed.Load() }

// Skipped reports whether the script was skipped.
func (t *ScriptLog) Skipped() bool { return t.skipped.Load() }

// LogText returns the log so far.
func (t *ScriptLog) LogText() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.String()
}

// ScriptT is a testscript.T that runs scripts one at a time: Run runs each
// at once, in the calling goroutine, and keeps it as a sub-script. It is
// for scripts run in order against one live lab (labrun's classroom) and
// for tests that run scripts through testscript.RunT.
type ScriptT struct {
	ScriptLog
	subs []*ScriptT // guarded by ScriptLog.mu
}

// NewScriptT returns the top T of a testscript.RunT, named name.
func NewScriptT(name string) *ScriptT { return &ScriptT{ScriptLog: ScriptLog{name: name}} }

// Parallel does nothing: the scripts run one at a time.
func (t *ScriptT) Parallel() {}

// Verbose reports false.
func (t *ScriptT) Verbose() bool { return false }

// Run runs f as the sub-script called name and returns when it has ended.
// A panic of f's own fails the sub-script and is logged as "panic: VALUE".
func (t *ScriptT) Run(name string, f func(testscript.T)) {
	sub := NewScriptT(name)
	t.mu.Lock()
	t.subs = append(t.subs, sub)
	t.mu.Unlock()
	defer func() {
		if e := recover(); e != nil && !Stopped(e) {
			sub.Log(fmt.Sprint("panic: ", e))
			sub.Fail()
		}
	}()
	f(sub)
}

// Subs returns the sub-scripts, in the order they ran.
func (t *ScriptT) Subs() []*ScriptT {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*ScriptT(nil), t.subs...)
}

// Logs returns the T's log followed by its sub-scripts', in the order they
// ran.
func (t *ScriptT) Logs() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.log.String()
	for _, sub := range t.subs {
		s += sub.Logs()
	}
	return s
}

// FailedAny reports whether the T or any of its sub-scripts failed.
func (t *ScriptT) FailedAny() bool {
	return t.any((*ScriptT).Failed)
}

// SkippedAny reports whether the T or any of its sub-scripts was skipped.
func (t *ScriptT) SkippedAny() bool {
	return t.any((*ScriptT).Skipped)
}

// any reports whether is holds for t or any of its sub-scripts.
func (t *ScriptT) any(is func(*ScriptT) bool) bool {
	if is(t) {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sub := range t.subs {
		if sub.any(is) {
			return true
		}
	}
	return false
}
