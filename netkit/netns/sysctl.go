package netns

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Sysctls opens files under /proc/sys for the calling thread's network
// namespace through private instances of procfs, each serving a bounded
// number of opens. The zero value is ready; Close releases the instances.
//
// It exists because the kernel's lookup of /proc/sys/net compares against
// one cached entry for every namespace that ever looked it up through the
// same procfs instance: in a lab of 1000 containers each open under
// /proc/sys/net in a new namespace walks a thousand entries, three times
// (the lock-free walk, the locked one, the allocation). A private instance
// (fsopen and fsmount, attached nowhere) has its own cache, so each walk
// passes at most opensPerInstance entries. Which namespace a file belongs
// to is decided by the opening thread, not by the instance, so what is
// opened is exactly what /proc/sys/KEY would give. Where private instances
// cannot be made (no fsopen, no permission), the machine's /proc is used.
//
// Equivalent to: unshare -m sh -c 'mount -t proc proc /mnt && cat /mnt/sys/KEY'
type Sysctls struct {
	use      sync.RWMutex // Open holds it shared while it uses an instance; Close alone
	mu       sync.Mutex
	mounts   []int // open instances, the newest last; kept until Close
	uses     int   // opens through the newest instance
	fallback bool  // private instances cannot be made: use /proc
	closed   bool
}

// opensPerInstance bounds the entries a lookup in one instance passes.
const opensPerInstance = 64

// Open opens /proc/sys/KEY (key with slashes: net/ipv6/conf/default/disable_ipv6)
// of the calling thread's network namespace with flag (os.O_RDWR, …).
// Errors are *os.PathError, so errors.Is(err, os.ErrNotExist) works.
func (s *Sysctls) Open(key string, flag int) (*os.File, error) {
	s.use.RLock()
	defer s.use.RUnlock()
	dir, err := s.instance()
	if err != nil {
		return nil, err
	}
	if dir < 0 {
		return os.OpenFile("/proc/sys/"+key, flag, 0)
	}
	fd, err := unix.Openat(dir, "sys/"+key, flag|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/sys/" + key, Err: err}
	}
	return os.NewFile(uintptr(fd), "/proc/sys/"+key), nil
}

// instance returns the descriptor of the procfs instance to open through,
// mounting a new one every opensPerInstance opens; -1: use /proc.
func (s *Sysctls) instance() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return -1, fmt.Errorf("opening a sysctl: %w", os.ErrClosed)
	}
	if s.fallback {
		return -1, nil
	}
	if len(s.mounts) == 0 || s.uses >= opensPerInstance {
		fd, err := mountProc()
		if err != nil {
			if len(s.mounts) == 0 {
				s.fallback = true
				return -1, nil
			}
			// Keep using the last instance: slower, still correct.
			return s.mounts[len(s.mounts)-1], nil
		}
		s.mounts = append(s.mounts, fd)
		s.uses = 0
	}
	s.uses++
	return s.mounts[len(s.mounts)-1], nil
}

// mountProc makes a new procfs instance, attached to no mount namespace,
// and returns its root's descriptor. The instance goes with the descriptor.
//
// Equivalent to: mount -t proc proc DIR (in a mount namespace of its own)
func mountProc() (int, error) {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen proc: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("creating a procfs instance: %w", err)
	}
	fd, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOEXEC|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return -1, fmt.Errorf("fsmount proc: %w", err)
	}
	return fd, nil
}

// Close releases the private instances. Files opened through them stay
// usable; Open fails afterwards.
func (s *Sysctls) Close() error {
	s.use.Lock()
	defer s.use.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var first error
	for _, fd := range s.mounts {
		if err := unix.Close(fd); err != nil && first == nil {
			first = fmt.Errorf("closing a procfs instance: %w", err)
		}
	}
	s.mounts = nil
	return first
}
