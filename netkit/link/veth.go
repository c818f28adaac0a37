package link

import (
	"net"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// VethPair describes a container's veth pair: the host end, a port of a
// bridge, and the container's end, in the container's namespace. Both are
// made down (see AddVeth). The zero value of each optional field asks for
// the kernel's default.
type VethPair struct {
	Host     string // the host end's name
	Master   int    // the bridge's ifindex
	MTU      int    // both ends' MTU; 0: the kernel's default
	TxQueues int    // both ends' transmit queues; 0: the kernel's default (see DefaultTxQueues)
	Peer     string // the container end's name (ethN)
	PeerMAC  net.HardwareAddr
	PeerNS   int // a descriptor of the container's namespace
}

// VethIndexes are the ifindexes of a new veth pair, each in its own
// namespace; 0 where the kernel did not say (see AddVeth).
type VethIndexes struct{ Host, Peer int }

// AddVeth creates the pair with one request on c's raw rtnetlink socket
// (in the host's namespace), the host end a port of the bridge, and
// returns the new ends' ifindexes.
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
// the host's (netkit's Container.plumb). A host end up from the start is a port the bridge
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
func (c *Conn) AddVeth(v VethPair) (VethIndexes, error) {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK|unix.NLM_F_ECHO)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.Host)))
	if v.MTU > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.MTU))))
	}
	req.AddData(nl.NewRtAttr(unix.IFLA_TXQLEN, nl.Uint32Attr(0)))
	if v.TxQueues > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(v.TxQueues))))
	}
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(v.Master))))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	peer := info.AddRtAttr(nl.IFLA_INFO_DATA, nil).AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC) // not IFF_UP (ENOTCONN, see above)
	peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.Peer))
	peer.AddRtAttr(unix.IFLA_TXQLEN, nl.Uint32Attr(0))
	if v.TxQueues > 0 {
		peer.AddRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(v.TxQueues)))
	}
	if v.MTU > 0 {
		peer.AddRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.MTU)))
	}
	if v.PeerMAC != nil {
		peer.AddRtAttr(unix.IFLA_ADDRESS, []byte(v.PeerMAC))
	}
	peer.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(v.PeerNS)))
	req.AddData(info)
	msgs, err := c.raw.roundTrip(req)
	if err != nil {
		return VethIndexes{}, err
	}
	var ix VethIndexes
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
		if name == v.Host {
			ix = VethIndexes{Host: int(ifi.Index), Peer: link}
		}
	}
	return ix, nil
}
