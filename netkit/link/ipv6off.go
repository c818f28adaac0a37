package link

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/labrun/labrun/netkit/netns"
)

// defaultDisableIPv6 is the sysctl that new interfaces of a namespace copy
// their disable_ipv6 from when they are registered.
const (
	defaultDisableIPv6    = "/proc/sys/" + defaultDisableIPv6Key
	defaultDisableIPv6Key = "net/ipv6/conf/default/disable_ipv6"
)

// NoIPv6Default makes the interfaces created next in the calling thread's
// namespace start with IPv6 off, and returns the function that puts the
// default back. It must run on a thread inside the container's namespace
// (netkit's Node.config).
//
// Docker turns IPv6 off on a container's interface on networks without
// IPv6 (libnetwork's setIPv6, since 1.13; labrun's networks are IPv4
// only): the interface has no link-local address, and sends none of the
// duplicate-address probes, MLD reports and router solicitations that the
// bridge would flood to every other container — with 1000 containers that
// flooding, not the API, is what makes each new container cost more than
// the last. Docker writes the interface's own disable_ipv6 once it exists;
// that write takes the rtnl lock by retrying the system call while anyone
// holds it, which under a lab's parallel starts burns a core. Letting the
// interface inherit the setting from the namespace's default is lock-free
// and leaves the same state: ethN's disable_ipv6 is 1, the default is
// back at its value. A kernel without IPv6 has nothing to turn off.
//
// Equivalent to: ip netns exec CTR sysctl -w net.ipv6.conf.ethN.disable_ipv6=1
//
// The file is opened once, through sys (see netns.Sysctls): every lookup
// of a path under /proc/sys/net walks past the entries of every other
// namespace that looked it up through the same procfs, which in a lab of
// 1000 containers costs more than the writes.
func NoIPv6Default(sys *netns.Sysctls) (restore func() error, err error) {
	f, err := sys.Open(defaultDisableIPv6Key, os.O_RDWR)
	if errors.Is(err, os.ErrNotExist) {
		return func() error { return nil }, nil
	}
	if err != nil {
		return nil, err
	}
	old, err := swapValue(f, "1")
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		_, err := f.WriteAt(old, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

// swapValue writes v to the open sysctl file f and returns the value it
// held before.
func swapValue(f *os.File, v string) (old []byte, err error) {
	buf := make([]byte, 16)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if _, err := f.WriteAt([]byte(v), 0); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// HostIPv6Off makes the host-side veths of containers start with IPv6 off:
// while any container's veth is being created, the host node's default
// disable_ipv6 is 1; when the last creation ends, it is put back.
//
// A host-side veth on labrun's IPv4-only networks carries no IPv6 (the
// container's end has IPv6 off, as Docker does). With IPv6 on, each one
// still gets a link-local address and its routes, runs duplicate-address
// detection in a kernel worker that takes the rtnl lock, and every link
// coming up or going away walks the host's whole IPv6 routing table, which
// holds three routes for each other veth: a cost that grows with the lab
// (issue 6; docs/performance.md). Docker leaves these veths' IPv6 on, so
// on a real host they show an fe80:: address that labrun's do not.
//
// The default is lock-free to write (unlike an interface's own
// disable_ipv6, which spins on the rtnl lock), and the file is opened once
// in the host node and kept. Bridges the engine creates take the exclusive
// side (Bridge), so that they never see the temporary default. Make one
// with NewHostIPv6Off; its methods are safe for concurrent use.
//
// Equivalent to: ip netns exec HOST sysctl -w net.ipv6.conf.default.disable_ipv6=1;
// ip link add vethX …; sysctl -w net.ipv6.conf.default.disable_ipv6=OLD
type HostIPv6Off struct {
	ns *netns.NS

	excl sync.RWMutex // veth creations share it; bridge creations hold it alone

	mu     sync.Mutex
	active int      // veth creations under way
	f      *os.File // the default, opened in the host node; nil: no IPv6
	opened bool
	old    []byte // the default's value before the first creation
}

// NewHostIPv6Off returns a HostIPv6Off for the host namespace ns.
func NewHostIPv6Off(ns *netns.NS) *HostIPv6Off { return &HostIPv6Off{ns: ns} }

// Off makes new interfaces of the host node start with IPv6 off until the
// returned function is called.
func (h *HostIPv6Off) Off() (restore func() error, err error) {
	h.excl.RLock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active == 0 {
		if err := h.setLocked(); err != nil {
			h.excl.RUnlock()
			return nil, err
		}
	}
	h.active++
	return func() error {
		defer h.excl.RUnlock()
		h.mu.Lock()
		defer h.mu.Unlock()
		h.active--
		if h.active > 0 || h.f == nil {
			return nil
		}
		if _, err := h.f.WriteAt(h.old, 0); err != nil {
			return fmt.Errorf("restoring the host's default disable_ipv6: %w", err)
		}
		return nil
	}, nil
}

// setLocked opens the default (once) and writes 1 to it, saving its value.
func (h *HostIPv6Off) setLocked() error {
	if !h.opened {
		err := h.ns.Do(func() error {
			f, err := os.OpenFile(defaultDisableIPv6, os.O_RDWR, 0)
			if errors.Is(err, os.ErrNotExist) {
				return nil // a kernel without IPv6 has nothing to turn off
			}
			h.f = f
			return err
		})
		if err != nil {
			return fmt.Errorf("opening the host's default disable_ipv6: %w", err)
		}
		h.opened = true
	}
	if h.f == nil {
		return nil
	}
	old, err := swapValue(h.f, "1")
	if err != nil {
		return fmt.Errorf("turning IPv6 off for the host's new veths: %w", err)
	}
	h.old = old
	return nil
}

// Bridge holds off veth creations while fn creates an interface that must
// get the host's own IPv6 default (a network's bridge).
func (h *HostIPv6Off) Bridge(fn func() error) error {
	h.excl.Lock()
	defer h.excl.Unlock()
	return fn()
}

// Close closes the default's file.
func (h *HostIPv6Off) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return nil
	}
	err := h.f.Close()
	h.f, h.opened = nil, false
	return err
}
