package trace

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// This file reads what the walk needs of a namespace, without sending a
// packet: its interfaces, the route the kernel picks for an address, and
// the socket (and program) that listens on a port.

// iface is one interface of a namespace.
type iface struct {
	Index int
	Name  string
	Kind  string // veth, bridge, ...
	MAC   string
	// Master is the index of the bridge the interface is a port of.
	Master int
	// Peer is a veth's peer's index, in the peer's namespace.
	Peer int
}

// ifaces are a namespace's interfaces by index.
type ifaces map[int]iface

// handle opens a netlink handle whose sockets are made inside ns.
func handle(ns *netns.NS) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := ns.Do(func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE, unix.NETLINK_INET_DIAG)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	return h, nil
}

// readIfaces lists ns's interfaces.
//
// Equivalent to: ip -n NS -d link show
func readIfaces(h *netlink.Handle) (ifaces, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	out := ifaces{}
	for _, l := range links {
		a := l.Attrs()
		i := iface{Index: a.Index, Name: a.Name, Kind: l.Type(), MAC: a.HardwareAddr.String(), Master: a.MasterIndex}
		if i.Kind == "veth" {
			i.Peer = a.ParentIndex
		}
		out[a.Index] = i
	}
	return out, nil
}

// hasBridge reports whether one of the interfaces is a bridge.
func (is ifaces) hasBridge() bool {
	for _, i := range is {
		if i.Kind == "bridge" {
			return true
		}
	}
	return false
}

// name is the interface's name, or "ifindex N" for one that is gone.
func (is ifaces) name(index uint32) string {
	if i, ok := is[int(index)]; ok {
		return i.Name
	}
	return "ifindex " + strconv.Itoa(int(index))
}

// route is the route the kernel's FIB holds for dst (the entry that
// matches, not the per-destination result): "172.17.0.0/16 dev docker0",
// "default via 192.168.190.2 dev eth0", "local 192.168.190.128", or an
// error wrapping unix.ENETUNREACH when there is none.
//
// Equivalent to: ip -n NS route get fibmatch DST
func route(h *netlink.Handle, is ifaces, dst netip.Addr) (string, error) {
	rs, err := h.RouteGetWithOptions(net.IP(dst.AsSlice()), &netlink.RouteGetOptions{FIBMatch: true})
	if err != nil {
		return "", fmt.Errorf("looking up the route to %s: %w", dst, err)
	}
	if len(rs) == 0 {
		return "", fmt.Errorf("looking up the route to %s: %w", dst, unix.ENETUNREACH)
	}
	r := rs[0]
	var b strings.Builder
	switch r.Type {
	case unix.RTN_LOCAL:
		return "local " + dst.String(), nil
	case unix.RTN_UNREACHABLE, unix.RTN_BLACKHOLE, unix.RTN_PROHIBIT:
		return "", fmt.Errorf("looking up the route to %s: %w", dst, unix.ENETUNREACH)
	}
	if r.Dst == nil || isDefault(r.Dst) {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Gw != nil {
		b.WriteString(" via " + r.Gw.String())
	}
	if r.LinkIndex > 0 {
		b.WriteString(" dev " + is.name(uint32(r.LinkIndex)))
	}
	return b.String(), nil
}

func isDefault(n *net.IPNet) bool {
	ones, _ := n.Mask.Size()
	return ones == 0
}

// listening names what listens on addr:port for proto in the namespace:
// "httpd listening" (the program that holds the socket), "listening"
// when no program can be found, or "" when nothing listens.
//
// Equivalent to: ip netns exec NS ss -ltnp 'sport = PORT'
func listening(h *netlink.Handle, nsIno uint64, proto uint8, addr netip.Addr, port uint16) (string, error) {
	if proto != unix.IPPROTO_TCP {
		return "", nil
	}
	const tcpListen = 10
	var inode uint32
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := h.SocketDiagTCP(fam)
		if err != nil {
			return "", fmt.Errorf("listing sockets: %w", err)
		}
		for _, s := range socks {
			if s.State != tcpListen || s.ID.SourcePort != port {
				continue
			}
			src, _ := netip.AddrFromSlice(s.ID.Source)
			src = src.Unmap()
			if src.IsUnspecified() || src == addr.Unmap() {
				inode = s.INode
				break
			}
		}
		if inode != 0 {
			break
		}
	}
	if inode == 0 {
		return "", nil
	}
	if comm := socketOwner(nsIno, inode); comm != "" {
		return comm + " listening", nil
	}
	return "listening", nil
}

// socketOwner finds the program that holds socket inode, as ss -p does,
// by the descriptors in /proc: among the processes of the namespace whose
// inode is nsIno first, then labrun's own (whose servers, the embedded
// DNS and the userland proxy, make sockets in a lab's namespaces), then
// every other process.
func socketOwner(nsIno uint64, inode uint32) string {
	want := "socket:[" + strconv.FormatUint(uint64(inode), 10) + "]"
	nsWant := "net:[" + strconv.FormatUint(nsIno, 10) + "]"
	procs, _ := filepath.Glob("/proc/[0-9]*")
	self := "/proc/" + strconv.Itoa(os.Getpid())
	holds := func(p string) bool {
		fds, err := os.ReadDir(p + "/fd")
		if err != nil {
			return false
		}
		for _, fd := range fds {
			if l, err := os.Readlink(p + "/fd/" + fd.Name()); err == nil && l == want {
				return true
			}
		}
		return false
	}
	comm := func(p string) string {
		b, err := os.ReadFile(p + "/comm")
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	var others []string
	for _, p := range procs {
		if l, err := os.Readlink(p + "/ns/net"); err != nil || l != nsWant {
			if p != self {
				others = append(others, p)
			}
			continue
		}
		if holds(p) {
			return comm(p)
		}
	}
	if holds(self) {
		return comm(self)
	}
	for _, p := range others {
		if holds(p) {
			return comm(p)
		}
	}
	return ""
}

// unanswered says why a packet sent to dst by interface oif may have gone
// nowhere: the neighbour it was sent to (dst, or the route's gateway) does
// not answer ARP or neighbour discovery. It returns "" when the neighbour
// is known, or cannot be asked.
//
// Equivalent to: ip -n NS route get DST; ip -n NS neigh show dev OIF
func unanswered(h *netlink.Handle, dst netip.Addr, oif int) string {
	next := dst
	if rs, err := h.RouteGet(net.IP(dst.AsSlice())); err == nil && len(rs) > 0 && rs[0].Gw != nil {
		if gw, ok := netip.AddrFromSlice(rs[0].Gw); ok {
			next = gw.Unmap()
		}
	}
	family, how := netlink.FAMILY_V4, "ARP"
	if next.Is6() {
		family, how = netlink.FAMILY_V6, "neighbour discovery"
	}
	ns, err := h.NeighList(oif, family)
	if err != nil {
		return ""
	}
	for _, n := range ns {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == next {
			if n.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE) != 0 {
				return next.String() + " does not answer " + how
			}
			return ""
		}
	}
	return ""
}

// forwarding reads whether the namespace forwards packets of the family
// of a.
func forwarding(ns *netns.NS, a netip.Addr) (bool, error) {
	key := "net/ipv4/ip_forward"
	if a.Is6() && !a.Is4In6() {
		key = "net/ipv6/conf/all/forwarding"
	}
	v, err := ns.ReadSysctl(key)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return v == "1", err
}
