package bench

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/netns"
)

// The lab every method builds: docker0 with Docker's default subnet, one
// container per address from .2 up, container i publishing host port
// 20000+i on its port 80.
var (
	bridgeName = "docker0"
	subnet     = netip.MustParsePrefix("172.17.0.0/16")
	gateway    = netip.MustParsePrefix("172.17.0.1/16")
	// network is docker0 as the firewall's rules see it.
	network = firewall.Network{Bridge: bridgeName, Subnet: subnet}
)

const basePort = 20000

// ctrAddr is container i's address: 172.17.0.2, .3, …
func ctrAddr(i int) netip.Addr {
	a := subnet.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i) + 2
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// scratchHost is a network namespace standing in for a Docker host, made
// for one method's run and dropped after it: the shell script and the CNI
// plugins run inside it, never in the root namespace.
type scratchHost struct {
	ns *netns.NS
	nl *netlink.Handle
}

// newScratchHost makes a fresh namespace with lo up and IP forwarding on.
func newScratchHost() (*scratchHost, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	var h *netlink.Handle
	err = ns.Do(func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening netlink in the scratch host: %w", err)
	}
	s := &scratchHost{ns: ns, nl: h}
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err == nil {
		err = ns.WriteSysctl("net/ipv4/ip_forward", "1")
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("setting up the scratch host: %w", err)
	}
	return s, nil
}

func (s *scratchHost) close() {
	s.nl.Close()
	s.ns.Close()
}

// dockerBridge gives the scratch host what a fresh dockerd has before any
// container: docker0 with its address (addBridge), and Docker's chains and
// network rules (netkit/firewall, the same rules labrun's engine programs).
//
// Equivalent to: ip link add docker0 type bridge; ip addr add 172.17.0.1/16
// dev docker0; ip link set docker0 up; and dockerd's iptables calls.
func (s *scratchHost) dockerBridge() error {
	if _, err := s.addBridge(); err != nil {
		return err
	}
	p := firewall.NewProgrammer(s.ns, firewall.Options{})
	c := firewall.Config{}
	if err := p.Apply(c.Start()); err != nil {
		return err
	}
	return p.Apply(c.AddNetwork(network))
}

// addBridge adds docker0 with the gateway's address, up, and returns its
// ifindex.
//
// Equivalent to: ip link add docker0 type bridge; ip addr add 172.17.0.1/16
// dev docker0; ip link set docker0 up
func (s *scratchHost) addBridge() (int, error) {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeName}}
	if err := s.nl.LinkAdd(br); err != nil {
		return 0, fmt.Errorf("adding %s: %w", bridgeName, err)
	}
	l, err := s.nl.LinkByName(bridgeName)
	if err != nil {
		return 0, fmt.Errorf("finding %s: %w", bridgeName, err)
	}
	ipn := &net.IPNet{IP: gateway.Addr().AsSlice(), Mask: net.CIDRMask(gateway.Bits(), 32)}
	if err := s.nl.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return 0, fmt.Errorf("adding %s to %s: %w", gateway, bridgeName, err)
	}
	if err := s.nl.LinkSetUp(l); err != nil {
		return 0, fmt.Errorf("setting %s up: %w", bridgeName, err)
	}
	return l.Attrs().Index, nil
}

// veths counts the veth interfaces left in the scratch host.
func (s *scratchHost) veths() (int, error) { return countVeths(s.nl) }

// countVeths counts the veth interfaces in h's namespace.
func countVeths(h *netlink.Handle) (int, error) {
	for attempt := 0; ; attempt++ {
		links, err := h.LinkList()
		if errors.Is(err, netlink.ErrDumpInterrupted) && attempt < 100 {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("listing links: %w", err)
		}
		n := 0
		for _, l := range links {
			if l.Type() == "veth" {
				n++
			}
		}
		return n, nil
	}
}

// waitVeths polls until the host has no more than want veths (those it had
// before the containers), so that a tear-down is timed until the kernel has
// removed every container's link, not only until the last command
// returned.
func waitVeths(count func() (int, error), want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := count()
		if err != nil {
			return err
		}
		if n <= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d veths still there after %v", n-want, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// runID is a short random identifier that names what one run creates
// (namespaces, containers' IDs), so that two benchmarks never share a name.
func runID() string {
	var b [3]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
