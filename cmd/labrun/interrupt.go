package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit"
)

// errInterrupted refuses a scenario's lab once labrun has been told to
// stop: the scenario fails before its first command.
var errInterrupted = errors.New("labrun is stopping (interrupted)")

// labSet is the labs a labrun run has open, so that SIGINT or SIGTERM can
// close them before labrun exits. It belongs to one run (run), never to
// the process. It is the run's runner.LabRegistry.
type labSet struct {
	mu     sync.Mutex
	labs   map[*netkit.Lab]bool
	dirs   []string // removed by closeAll too
	closed bool
	// interrupted, when set, runs once the labs are closed after a
	// signal, with why ("interrupted (SIGTERM)"): the run writes what it
	// has of its reports (-junit, -json).
	interrupted func(why string)
}

// atInterrupt has an interrupted run call f after closing its labs.
func (s *labSet) atInterrupt(f func(why string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interrupted = f
}

// removeDir has closeAll remove dir (the run's work directories) too.
func (s *labSet) removeDir(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs = append(s.dirs, dir)
}

// Register records an open lab. Once closeAll has run it refuses the lab
// with errInterrupted: the scenario then closes the lab itself and fails.
func (s *labSet) Register(l *netkit.Lab) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errInterrupted
	}
	if s.labs == nil {
		s.labs = map[*netkit.Lab]bool{}
	}
	s.labs[l] = true
	return nil
}

// Unregister forgets a lab its scenario has finished with.
func (s *labSet) Unregister(l *netkit.Lab) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.labs, l)
}

// closeAll closes every open lab, all at once, refuses new ones, and
// removes the run's work directories.
func (s *labSet) closeAll() error {
	s.mu.Lock()
	s.closed = true
	var labs []*netkit.Lab
	for l := range s.labs {
		labs = append(labs, l)
	}
	s.labs = nil
	dirs := s.dirs
	s.mu.Unlock()
	defer func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}()
	errs := make([]error, len(labs))
	var wg sync.WaitGroup
	for i, l := range labs {
		wg.Go(func() {
			errs[i] = l.Close()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// closeGrace bounds how long an interrupted labrun waits for its labs to
// close in order. Whatever is left then goes when the process exits: the
// namespaces are held by labrun's descriptors and the lab's processes die
// with it (parent-death signal).
const closeGrace = 10 * time.Second

// interruptible runs f (a labrun run whose labs are in labs) and returns
// its status. On SIGINT or SIGTERM it does not wait for f: it closes every
// open lab, says so on stderr and returns 128+signal (130, 143), as a shell
// reports a command killed by that signal. A second signal ends labrun at
// once (the default action), which also removes its labs.
func interruptible(labs *labSet, stderr io.Writer, f func() int) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan int, 1)
	go func() { done <- f() }()
	select {
	case code := <-done:
		return code
	case sig := <-sigs:
		signal.Stop(sigs)
		s, _ := sig.(syscall.Signal)
		closed := make(chan error, 1)
		go func() { closed <- labs.closeAll() }()
		select {
		case err := <-closed:
			if err != nil {
				fmt.Fprintf(stderr, "labrun: closing labs: %v\n", err)
			}
		case <-time.After(closeGrace):
			fmt.Fprintf(stderr, "labrun: labs still closing after %s; exiting removes them\n", closeGrace)
		}
		labs.mu.Lock()
		after := labs.interrupted
		labs.mu.Unlock()
		if after != nil {
			after(fmt.Sprintf("interrupted (%s)", signalName(s)))
		}
		fmt.Fprintf(stderr, "labrun: interrupted (%s); labs removed\n", signalName(s))
		return 128 + int(s)
	}
}

// signalName is the signal's conventional name, as kill -l prints it
// (SIGTERM).
func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}
