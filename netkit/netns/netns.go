// Package netns is the one place in labrun that switches a thread into another
// network namespace. It creates anonymous namespaces held only by a file
// descriptor (so they vanish when labrun exits, however it exits), runs code
// inside a namespace on a locked OS thread, starts processes inside one (the
// many small ones through spawner threads with descriptor tables of their
// own), opens a namespace's /proc/sys through private procfs instances, and
// pins a namespace to a path for inspection when asked.
//
// It is not a general namespace library: it knows network namespaces only (and
// the UTS and mount namespaces of processes it starts), and nothing about
// links, addresses or rules. Everything else in labrun uses netlink handles
// bound to a namespace, or sockets created here with Do, and never calls setns.
package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ErrClosed is returned when a closed namespace is used.
var ErrClosed = errors.New("network namespace closed")

// NS is a network namespace held open by a file descriptor. The namespace
// lives at least as long as the NS is open, and no longer than the last
// descriptor, bind mount or process that refers to it.
type NS struct {
	mu sync.RWMutex
	fd int // -1 once closed
}

// threadNSPath is the path of the calling thread's network namespace. It must
// be the thread's own entry: /proc/self/ns/net names the main thread's.
func threadNSPath() string {
	return "/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/ns/net"
}

// New creates a new, empty network namespace (only a down lo) and returns it
// without leaving any thread inside it.
//
// Equivalent to: unshare --net (without entering it)
func New() (*NS, error) {
	var fd int
	err := onLockedThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("creating network namespace: %w", err)
		}
		var err error
		fd, err = unix.Open(threadNSPath(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening new network namespace: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &NS{fd: fd}, nil
}

// Open opens the network namespace at path (a /proc/PID/ns/net entry or a
// bind mount).
func Open(path string) (*NS, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	return &NS{fd: fd}, nil
}

// OpenPID opens the network namespace of process pid.
func OpenPID(pid int) (*NS, error) {
	return Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
}

// Handle returns the namespace as a vishvananda/netns handle, for
// netlink.NewHandleAt. The handle is borrowed: do not close it.
func (n *NS) Handle() vnetns.NsHandle {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return vnetns.NsHandle(n.fd)
}

// Fd returns the descriptor that holds the namespace (-1 once closed).
func (n *NS) Fd() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.fd
}

// Inode returns the namespace's inode number, which identifies it: two NS
// values with the same inode are the same namespace.
func (n *NS) Inode() (uint64, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.fd < 0 {
		return 0, ErrClosed
	}
	var st unix.Stat_t
	if err := unix.Fstat(n.fd, &st); err != nil {
		return 0, fmt.Errorf("reading namespace inode: %w", err)
	}
	return st.Ino, nil
}

// Close releases the descriptor. The namespace disappears once nothing else
// (a process, a pin, another descriptor) refers to it.
func (n *NS) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd < 0 {
		return nil
	}
	err := unix.Close(n.fd)
	n.fd = -1
	return err
}

// Do runs fn on an OS thread that is inside the namespace, and returns fn's
// error. fn must not start goroutines that expect to be in the namespace: only
// its own thread is. Sockets and descriptors that fn creates stay in the
// namespace and may be used from any goroutine afterwards.
//
// Equivalent to: nsenter --net=NS -- fn
func (n *NS) Do(fn func() error) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.fd < 0 {
		return ErrClosed
	}
	target := n.fd
	var fnErr error
	err := onLockedThread(func() error {
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("entering network namespace: %w", err)
		}
		fnErr = fn()
		return nil
	})
	if err != nil {
		return err
	}
	return fnErr
}

// onLockedThread runs fn in a fresh goroutine locked to its OS thread, after
// saving the thread's network namespace, and restores it afterwards. The
// thread is unlocked (returned to the Go scheduler) only if the restore
// succeeded; otherwise it stays locked and the runtime destroys it when the
// goroutine ends, so no goroutine ever runs in a namespace it did not ask for.
func onLockedThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open(threadNSPath(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("saving thread network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		ferr := fn()
		// Beyond this point the thread may be in another namespace: it is
		// poisoned until the restore succeeds.
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("restoring thread network namespace: %w", err))
			return // leave locked: the runtime ends the thread
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// StartOptions says how Start runs a process. The zero value starts the
// process in the namespace, in the caller's mount and UTS namespaces.
type StartOptions struct {
	// NewUTS gives the process its own UTS namespace (its own hostname).
	NewUTS bool
	// NewMount gives the process its own mount namespace, in which a
	// helper (see package initproc) can remount /sys for this network
	// namespace, so that sysfs readers such as brctl see its interfaces.
	NewMount bool
}

// Start starts cmd inside the namespace. The process is killed when labrun
// dies (parent-death signal SIGKILL), so it cannot outlive the lab. The
// caller must Wait for it.
//
// Equivalent to: nsenter --net=NS -- cmd
func (n *NS) Start(cmd *exec.Cmd, opts StartOptions) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Cloneflags |= cloneFlags(opts)
	// The child is forked from the locked thread, so it inherits the
	// thread's network namespace. Pdeathsig is tied to that thread: the
	// thread survives because Do unlocks it after a successful restore.
	return n.Do(func() error {
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting %s: %w", cmd.Path, err)
		}
		return nil
	})
}

// WriteSysctl writes value to /proc/sys/KEY inside the namespace, where key
// uses slashes (net/ipv4/ip_forward).
//
// Equivalent to: ip netns exec NS sysctl -w KEY=VALUE
func (n *NS) WriteSysctl(key, value string) error {
	return n.Do(func() error {
		if err := os.WriteFile("/proc/sys/"+key, []byte(value), 0o644); err != nil {
			return fmt.Errorf("setting %s: %w", key, err)
		}
		return nil
	})
}

// ReadSysctl reads /proc/sys/KEY inside the namespace.
func (n *NS) ReadSysctl(key string) (string, error) {
	var out string
	err := n.Do(func() error {
		b, err := os.ReadFile("/proc/sys/" + key)
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		out = string(trimNL(b))
		return nil
	})
	return out, err
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// Pin bind-mounts the namespace at path (creating the file), so that it
// survives labrun for inspection with `ip netns exec`. Unpin removes it.
//
// Equivalent to: touch PATH && mount --bind /proc/self/fd/FD PATH
func (n *NS) Pin(path string) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.fd < 0 {
		return ErrClosed
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("creating pin %s: %w", path, err)
	}
	f.Close()
	src := "/proc/self/fd/" + strconv.Itoa(n.fd)
	if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return fmt.Errorf("pinning namespace at %s: %w", path, err)
	}
	return nil
}

// Unpin undoes Pin: it unmounts path and removes the file.
//
// Equivalent to: umount PATH && rm PATH
func Unpin(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unpinning %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// Available reports whether this process can create network namespaces, and
// if not, why. Kernel tests skip with its error.
func Available() error {
	ns, err := New()
	if err != nil {
		return err
	}
	return ns.Close()
}
