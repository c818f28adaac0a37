// Package link is netkit's room for link operations on a netlink connection
// bound to a namespace: a connection that the caller borrows for the purpose
// (Conn, Open) or a plain handle (OpenHandle); a container's veth pair in
// one request (AddVeth), a port leaving its bridge and links deleted alone
// or by the batch (LeaveBridge, Delete, DeleteGroup, Deleter), new links that
// start with IPv6 off as Docker's do (NoIPv6Default, HostIPv6Off), lo up
// (SetLoUp), a bridge's IPv4 address replaced as Docker's bridge driver
// replaces it (SetBridgeIPv4), the wait for a link's carrier
// (WaitOperUp), and the links of the macvlan and ipvlan drivers: children
// of a lower device, 802.1Q and dummy parents, and whether the kernel has
// a link type at all (AddChild, AddVLAN, AddDummy, Supported).
//
// It exists because these are the requests that decide how fast a lab of a
// thousand containers starts and stops (docs/performance.md), and several
// of them are not what vishvananda/netlink can send: they go on a raw
// rtnetlink socket next to the library's handle. It is not where links are
// chosen or named (netkit's engine does that), and it imports nothing of
// netkit but its leaves: it enters a namespace only through netns, to open
// sockets there.
package link

import (
	"fmt"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// Conn is a netlink handle bound to one namespace, with a raw rtnetlink
// socket in the same namespace for the requests the handle cannot make
// (AddVeth, the deletions). A Conn serves one goroutine at a time: a
// caller borrows it from a pool (netkit's Node keeps one) and gives it
// back. Close it when done.
type Conn struct {
	*netlink.Handle
	raw *rawSocket
}

// Open opens a Conn whose sockets live in ns, from one thread inside it.
func Open(ns *netns.NS) (*Conn, error) {
	c := &Conn{}
	err := ns.Do(func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		s, err := nl.Subscribe(unix.NETLINK_ROUTE)
		if err != nil {
			h.Close()
			return err
		}
		pid, err := s.GetPid()
		if err != nil {
			h.Close()
			s.Close()
			return err
		}
		c.Handle, c.raw = h, &rawSocket{s: s, pid: pid}
		return nil
	})
	if err != nil {
		return nil, err // the caller says where
	}
	return c, nil
}

// Close closes both sockets.
func (c *Conn) Close() {
	c.Handle.Close()
	c.raw.s.Close()
}

// OpenHandle returns a netlink handle whose sockets live in ns. It opens
// them from a thread inside ns (netns.Do) in one go, which costs a third of
// netlink.NewHandleAt's socket-by-socket namespace switching and keeps the
// thread handling in netns.
//
// A closed handle must never be used again: vishvananda/netlink then opens
// a socket in the calling thread's namespace, which is labrun's own.
func OpenHandle(ns *netns.NS) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := ns.Do(func() error {
		var err error
		h, err = netlink.NewHandle()
		return err
	})
	return h, err
}

// SetLoUp sets lo up. lo is always ifindex 1 in a new namespace
// (LOOPBACK_IFINDEX): no lookup needed.
//
// Equivalent to: ip link set lo up
func SetLoUp(h *netlink.Handle) error {
	return h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1, Name: "lo"}})
}

// rawSocket is a rtnetlink socket for requests that vishvananda/netlink
// cannot make: its Execute stops reading at the first answer that is not
// part of a dump, so with NLM_F_ECHO it returns the echo and leaves the
// acknowledgement, and with it the request's error, unread.
type rawSocket struct {
	s   *nl.NetlinkSocket
	pid uint32 // the socket's port ID, which the kernel's answers carry
	seq uint32
}

// roundTrip sends req and returns the messages the kernel answers with
// before its acknowledgement, or the error that the acknowledgement holds.
// A socket serves one request at a time.
func (r *rawSocket) roundTrip(req *nl.NetlinkRequest) ([]syscall.NetlinkMessage, error) {
	r.seq++
	req.Seq = r.seq
	if err := r.s.Send(req); err != nil {
		return nil, err
	}
	var out []syscall.NetlinkMessage
	for {
		msgs, from, err := r.s.Receive()
		if err != nil {
			return nil, err
		}
		if from.Pid != nl.PidKernel {
			continue
		}
		for _, m := range msgs {
			// Skip what an earlier request that failed half-way
			// left unread.
			if m.Header.Seq != req.Seq || m.Header.Pid != r.pid {
				continue
			}
			if m.Header.Type != unix.NLMSG_ERROR {
				out = append(out, m)
				continue
			}
			if len(m.Data) < 4 {
				return nil, fmt.Errorf("reading netlink answer: short acknowledgement")
			}
			if errno := int32(nl.NativeEndian().Uint32(m.Data[:4])); errno != 0 {
				return nil, syscall.Errno(-errno)
			}
			return out, nil
		}
	}
}
