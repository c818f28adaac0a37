package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Errors of Readiness.Wait.
var (
	// ErrNotReady: the process did not report readiness in time.
	ErrNotReady = errors.New("process not ready in time")
	// ErrExited: the process closed its end of the pipe (it exited, most
	// likely) without reporting readiness.
	ErrExited = errors.New("process exited before it was ready")
)

// Readiness is the pipe on which a started process reports that it is
// ready: it gets the write end (Child) as an extra descriptor and writes
// one byte to it once ready (initproc's ready function does).
type Readiness struct{ r, w *os.File }

// NewReadiness makes a readiness pipe. Close it when done.
func NewReadiness() (*Readiness, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("making readiness pipe: %w", err)
	}
	return &Readiness{r: r, w: w}, nil
}

// Child returns the end to give the process.
func (r *Readiness) Child() *os.File { return r.w }

// Started closes the parent's copy of the child's end, once the process
// has been started (or failed to start), so that the pipe reports the
// process's exit.
func (r *Readiness) Started() { r.w.Close() }

// Wait waits until the process reports readiness: ErrNotReady when timeout
// passes first, ErrExited when it closes its end first.
func (r *Readiness) Wait(timeout time.Duration) error {
	r.r.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	if _, err := r.r.Read(b[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return ErrNotReady
		}
		return ErrExited
	}
	return nil
}

// Close closes the pipe.
func (r *Readiness) Close() {
	r.r.Close()
	r.w.Close()
}

// ExitCode is a reaped process's exit code as Docker reports it: the
// status it exited with, or 128+N when signal N killed it; 0 for nil.
func ExitCode(st *os.ProcessState) int {
	if st == nil {
		return 0
	}
	code := st.ExitCode()
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return code
}

// HeadWriter keeps the first N bytes written to it in W and drops the rest;
// every write succeeds. It holds the start of a process's standard error
// for an error message.
type HeadWriter struct {
	W io.Writer
	N int
}

func (l *HeadWriter) Write(p []byte) (int, error) {
	if l.N <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.N {
		q = q[:l.N]
	}
	l.N -= len(q)
	l.W.Write(q)
	return len(p), nil
}

// Wait waits for cmd, started, to exit; when ctx ends first it kills cmd's
// process, reaps it and returns an error that names the program and the
// context's cause.
func Wait(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s: killed: %w", cmd.Args[0], context.Cause(ctx))
	}
}
