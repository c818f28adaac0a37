package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Spawn describes a process for NS.Spawn: a program given by an open file,
// with no standard streams (they are /dev/null) and the files of Extra as
// its descriptors 3, 4, …
type Spawn struct {
	Exe   *os.File // the program, executed through its descriptor
	Args  []string // argv; Args[0] is what ps shows
	Env   []string
	Extra []*os.File
}

// Spawn starts a process inside the namespace as Start does (parent-death
// signal SIGKILL, the namespaces opts asks for) and returns it; the caller
// must Wait for it. It is Start for the processes a lab starts by the
// thousand (the containers' waiters, see package initproc):
//
// A child copies its parent's descriptor table at fork and closes the
// close-on-exec descriptors at exec, so starting a process costs in
// proportion to the descriptors labrun holds — four per container (its
// namespace, its process, the ports' listeners), so every container makes
// the next one dearer. Spawn forks from one of a few threads that each
// have a descriptor table of their own (unshare CLONE_FILES), holding only
// what the child needs, fetched for each start from labrun's table
// (pidfd_getfd). Those threads live as long as labrun, locked, and are the
// parents whose end the children's death signal watches. Where they cannot
// be made, Spawn starts the process as Start does.
//
// Equivalent to: nsenter --net=NS [--uts] -- EXE ARGS… 3>EXTRA0 </dev/null >/dev/null 2>&1
func (n *NS) Spawn(s Spawn, opts StartOptions) (*os.Process, error) {
	if s.Exe == nil || len(s.Args) == 0 {
		return nil, errors.New("spawning: no program")
	}
	if sp, err := theSpawner.get(); err == nil {
		return sp.spawn(n, s, cloneFlags(opts))
	}
	// No spawner: an ordinary start, in the namespace.
	cmd := &exec.Cmd{
		Path: "/proc/self/fd/" + strconv.Itoa(int(s.Exe.Fd())), Args: s.Args, Env: s.Env,
		ExtraFiles: s.Extra,
	}
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	err := n.Start(cmd, opts)
	runtime.KeepAlive(s)
	if err != nil {
		return nil, err
	}
	return cmd.Process, nil
}

// spawn asks a spawner thread for the process.
func (sp *spawner) spawn(n *NS, s Spawn, flags uintptr) (*os.Process, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.fd < 0 {
		return nil, ErrClosed
	}
	req := &spawnReq{ns: n.fd, exe: int(s.Exe.Fd()), args: s.Args, env: s.Env, flags: flags, resp: make(chan spawnResp, 1)}
	for _, f := range s.Extra {
		req.extra = append(req.extra, int(f.Fd()))
	}
	sp.reqs <- req
	r := <-req.resp
	runtime.KeepAlive(s)
	if r.err != nil {
		return nil, r.err
	}
	// The child is labrun's (the spawner's thread is one of labrun's),
	// and unreaped, so its pid cannot have been reused.
	p, err := os.FindProcess(r.pid)
	if err != nil {
		return nil, fmt.Errorf("spawning %s: %w", s.Args[0], err)
	}
	return p, nil
}

func cloneFlags(opts StartOptions) uintptr {
	var flags uintptr
	if opts.NewUTS {
		flags |= unix.CLONE_NEWUTS
	}
	if opts.NewMount {
		flags |= unix.CLONE_NEWNS
	}
	return flags
}

// theSpawner is labrun's spawner threads, started at the first Spawn.
var theSpawner spawner

type spawner struct {
	once sync.Once
	live atomic.Int32 // threads serving reqs
	reqs chan *spawnReq
	err  error
}

// spawnReq asks the spawner for a process. Descriptors are numbers in
// labrun's own table, held open by the caller until the answer.
type spawnReq struct {
	ns, exe int
	extra   []int
	args    []string
	env     []string
	flags   uintptr
	resp    chan spawnResp
}

type spawnResp struct {
	pid int
	err error
}

// get starts the spawner threads once, and returns the spawner, or why
// there is none. There are as many threads as Go runs goroutines in
// parallel (at least two): a start mostly waits for the kernel to build
// the child's address space at exec, and starts come sixteen at a time.
func (s *spawner) get() (*spawner, error) {
	s.once.Do(func() {
		s.reqs = make(chan *spawnReq)
		n := min(max(runtime.GOMAXPROCS(0), 2), 8)
		ready := make(chan error, n)
		for range n {
			go s.run(ready, nil)
		}
		var errs []error
		for range n {
			if err := <-ready; err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == n {
			s.err = errs[0]
		}
	})
	return s, s.err
}

// run is the spawner thread. Once its descriptor table is its own, it may
// only make system calls directly (package syscall and unix, never os or
// net): Go's poller and files belong to labrun's table.
func (s *spawner) run(ready chan<- error, locked func()) {
	// Never unlocked, never returns once ready: the thread must outlive
	// every child it forks, whose death signal fires when it ends.
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// The main thread's table is the one pidfd_getfd reads (labrun's):
		// it must stay shared. A goroutine started while this one holds
		// the main thread runs on another thread.
		moved := make(chan struct{})
		go s.run(ready, func() { close(moved) })
		<-moved
		runtime.UnlockOSThread()
		return
	}
	if locked != nil {
		locked()
	}
	fail := func(err error) {
		ready <- fmt.Errorf("starting the spawner thread: %w", err)
		// The thread may be half set up: the runtime ends it with the
		// goroutine (it has no children yet).
	}
	self, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		fail(fmt.Errorf("pidfd_open: %w", err))
		return
	}
	// Probe pidfd_getfd (Linux 5.6) before committing to it.
	probe, err := unix.PidfdGetfd(self, self, 0)
	if err != nil {
		unix.Close(self)
		fail(fmt.Errorf("pidfd_getfd: %w", err))
		return
	}
	unix.Close(probe)
	if err := unix.Unshare(unix.CLONE_FILES); err != nil {
		unix.Close(self)
		fail(fmt.Errorf("unshare CLONE_FILES: %w", err))
		return
	}
	// From here on this thread's table is its own: keep 0–2, self and the
	// Go runtime's poller, close the rest (the copy of labrun's).
	err = closeCopies(self)
	var orig, null int
	if err == nil {
		orig, err = unix.Open(threadNSPath(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err == nil {
		null, err = unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		fail(err)
		return
	}
	ready <- nil
	for req := range s.reqs {
		pid, err := spawnOne(self, orig, null, req)
		if err == errPoisoned {
			// The thread is in a namespace it could not leave: it serves
			// no more requests (the last one to go answers them all with
			// the error), and stays, because its children's death signal
			// is tied to it.
			req.resp <- spawnResp{err: err}
			if s.live.Add(-1) == 0 {
				for req := range s.reqs {
					req.resp <- spawnResp{err: err}
				}
			}
			select {}
		}
		req.resp <- spawnResp{pid: pid, err: err}
	}
}

// closeCopies closes the descriptors of the calling thread's own table
// (a copy of labrun's) except 0–2, keep, and the Go runtime's poller: its
// epoll instance and the eventfd that wakes it. The runtime polls on any
// thread that starts the world after a garbage collection, this one
// included, and dies if the poller's descriptors are not there.
//
// Equivalent to: for fd in /proc/thread-self/fd/*; do close unless 0-2,
// keep, anon_inode:[eventpoll] or anon_inode:[eventfd]; done
func closeCopies(keep int) error {
	const dir = "/proc/thread-self/fd"
	d, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	var fds []int
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(d, buf)
		if err != nil {
			unix.Close(d)
			return fmt.Errorf("listing %s: %w", dir, err)
		}
		if n <= 0 {
			break
		}
		var names []string
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd > 2 && fd != keep && fd != d {
				fds = append(fds, fd)
			}
		}
	}
	unix.Close(d)
	link := make([]byte, 64)
	for _, fd := range fds {
		n, err := unix.Readlink(dir+"/"+strconv.Itoa(fd), link)
		if err == nil {
			if target := string(link[:n]); target == "anon_inode:[eventpoll]" || target == "anon_inode:[eventfd]" {
				continue
			}
		}
		unix.Close(fd)
	}
	return nil
}

var errPoisoned = errors.New("spawner thread stuck in a container's network namespace")

// spawnOne fetches the request's descriptors into the thread's table,
// enters the namespace, forks and executes, and comes back.
func spawnOne(self, orig, null int, req *spawnReq) (pid int, err error) {
	var held []int
	defer func() {
		for _, fd := range held {
			unix.Close(fd)
		}
	}()
	fetch := func(fd int) (int, error) {
		local, err := unix.PidfdGetfd(self, fd, 0)
		if err != nil {
			return -1, fmt.Errorf("spawning %s: fetching descriptor %d: %w", req.args[0], fd, err)
		}
		held = append(held, local)
		return local, nil
	}
	ns, err := fetch(req.ns)
	if err != nil {
		return 0, err
	}
	exe, err := fetch(req.exe)
	if err != nil {
		return 0, err
	}
	files := []uintptr{uintptr(null), uintptr(null), uintptr(null)}
	for _, fd := range req.extra {
		local, err := fetch(fd)
		if err != nil {
			return 0, err
		}
		files = append(files, uintptr(local))
	}
	env := req.env
	if env == nil {
		env = []string{}
	}
	if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
		return 0, fmt.Errorf("spawning %s: entering network namespace: %w", req.args[0], err)
	}
	pid, ferr := syscall.ForkExec("/proc/self/fd/"+strconv.Itoa(exe), req.args, &syscall.ProcAttr{
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Cloneflags: req.flags},
	})
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		if ferr == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		return 0, errPoisoned
	}
	if ferr != nil {
		return 0, fmt.Errorf("starting %s: %w", req.args[0], ferr)
	}
	return pid, nil
}
