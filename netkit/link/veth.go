package netkit

import (
	"fmt"
	"net"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// vethPair describes a container's veth pair: the host end, a port of a
// bridge, and the container's end, in the container's namespace. Both are
// made down (see addVeth).
type vethPair struct {
	host     string // the host end's name
	master   int    // the bridge's ifindex
	mtu      int    // both ends' MTU; 0: the kernel's default
	txqs     int    // both ends' transmit queues; 0: the kernel's default (see vethTxQueues)
	peer     string // the container end's name (ethN)
	peerMAC  net.HardwareAddr
	peerNSFd int // the container's namespace
}

// vethIndexes are the ifindexes of a new veth pair, each in its own
// namespace; 0 where the kernel did not say (see addVeth).
type vethIndexes struct{ host, peer int }

// addVeth creates the pair with one request on s, a rtnetlink socket in
// the host node, and returns the new ends' ifindexes.
//
// vishvananda/netlink's LinkAdd takes three requests for the same (create,
// look the new link up by name, enslave it), and the container's end then
// needs a lookup of its own. Each is a turn of the rtnl lock that every
// namespace of the machine shares, and the lookup of the host end, made
// while its peer is still down, had the kernel deactivate its queues
// first: an RCU grace period under that lock (docs/performance.md). The
// container's end cannot be made up in the same request (the kernel opens
// it before the pair is linked, and refuses with ENOTCONN), and the host
// end is better made down: the caller sets the container's end up, then
// the host's (plumb). A host end up from the start is a port the bridge
// enables at once (its operational state is not known yet), disables when
// the kernel sees it has no carrier, with its queues deactivated (an RCU
// grace period under the rtnl lock), and enables again when the peer comes
// up: three passes over every port of the bridge instead of one (Docker
// sets the host end up before the container's; the end state is the
// same). The request asks for its own notification back (NLM_F_ECHO),
// which carries the host end's ifindex and its peer's (IFLA_LINK); a
// kernel that does not honour the flag for new links sends none, and the
// indexes stay 0.
//
// Both ends get txqueuelen 0, as Docker's (libnetwork makes its veths with
// TxQLen 0). A request that fails leaves nothing behind: the kernel undoes
// a pair whose master it cannot set.
//
// Equivalent to: ip link add vethX mtu M txqueuelen 0 numtxqueues Q master
// BR type veth peer name ethN address MAC netns CTR mtu M txqueuelen 0
// numtxqueues Q
func addVeth(s *rawSocket, v vethPair) (vethIndexes, error) {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK|unix.NLM_F_ECHO)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.host)))
	if v.mtu > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.mtu))))
	}
	req.AddData(nl.NewRtAttr(unix.IFLA_TXQLEN, nl.Uint32Attr(0)))
	if v.txqs > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(v.txqs))))
	}
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(v.master))))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	peer := info.AddRtAttr(nl.IFLA_INFO_DATA, nil).AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC) // not IFF_UP (ENOTCONN, see above)
	peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.peer))
	peer.AddRtAttr(unix.IFLA_TXQLEN, nl.Uint32Attr(0))
	if v.txqs > 0 {
		peer.AddRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(v.txqs)))
	}
	if v.mtu > 0 {
		peer.AddRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.mtu)))
	}
	if v.peerMAC != nil {
		peer.AddRtAttr(unix.IFLA_ADDRESS, []byte(v.peerMAC))
	}
	peer.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(v.peerNSFd)))
	req.AddData(info)
	msgs, err := s.roundTrip(req)
	if err != nil {
		return vethIndexes{}, err
	}
	var ix vethIndexes
	for _, msg := range msgs {
		m := msg.Data
		if msg.Header.Type != unix.RTM_NEWLINK || len(m) < unix.SizeofIfInfomsg {
			continue
		}
		ifi := nl.DeserializeIfInfomsg(m)
		attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
		if err != nil {
			continue
		}
		var name string
		var link int
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				name = unix.ByteSliceToString(a.Value)
			case unix.IFLA_LINK:
				if len(a.Value) == 4 {
					link = int(nl.NativeEndian().Uint32(a.Value))
				}
			}
		}
		if name == v.host {
			ix = vethIndexes{host: int(ifi.Index), peer: link}
		}
	}
	return ix, nil
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

// nodeConn is a netlink handle bound to a node's namespace (Node.borrow),
// with a raw rtnetlink socket in the same namespace for the requests the
// handle cannot make (addVeth, the veth deletions).
type nodeConn struct {
	*netlink.Handle
	raw *rawSocket
}

// close closes both sockets.
func (c *nodeConn) close() {
	c.Handle.Close()
	c.raw.s.Close()
}

// openNodeConn opens a nodeConn in ns, from one thread inside it.
func openNodeConn(ns *netns.NS) (*nodeConn, error) {
	c := &nodeConn{}
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
		return nil, err
	}
	return c, nil
}
