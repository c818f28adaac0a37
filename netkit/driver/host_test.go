package driver

import (
	"net"
	"net/netip"
	"sort"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/node"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// lender lends connections opened for each use.
type lender struct{ ns *netns.NS }

func (l lender) Borrow() (*link.Conn, error) { return link.Open(l.ns) }
func (l lender) GiveBack(c *link.Conn)       { c.Close() }

// host is a fresh Docker host: eth0, a veth whose peer is in another
// namespace (the LAN), both up.
func host(t *testing.T) (*Drivers, *netlink.Handle) {
	hostNS := testkit.NewNS(t, testkit.NSOptions{LoopbackUp: true, NoIPv6: true})
	lan := testkit.NewNS(t, testkit.NSOptions{NoIPv6: true})
	h := testkit.Handle(t, hostNS)
	require.NoError(t, h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0", Flags: net.FlagUp},
		PeerName: "lan0", PeerNamespace: netlink.NsFd(lan.Fd())}))
	lh := testkit.Handle(t, lan)
	lan0, err := lh.LinkByName("lan0")
	require.NoError(t, err)
	require.NoError(t, lh.LinkSetUp(lan0))
	return New(lender{hostNS}, nil), h
}

// linkNames lists the links of h's namespace.
func linkNames(t *testing.T, h *netlink.Handle) []string {
	ls, err := h.LinkList()
	require.NoError(t, err)
	var out []string
	for _, l := range ls {
		out = append(out, l.Attrs().Name)
	}
	sort.Strings(out)
	return out
}

func container(t *testing.T, name string) *node.Node {
	ctr, err := node.NewContainer(name)
	require.NoError(t, err)
	t.Cleanup(func() { ctr.Close() })
	return ctr
}

const netID = "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef"

// TestJoinMacvlan: a container's link is a macvlan child of the parent,
// in the container under its ethN name with its MAC, address and default
// route; nothing stays in the host; Leave removes it.
func TestJoinMacvlan(t *testing.T) {
	d, hh := host(t)
	before := linkNames(t, hh)
	n, err := d.Create(netID, Config{Driver: Macvlan, Parent: "eth0", Macvlan: MacvlanPrivate})
	require.NoError(t, err)
	assert.Equal(t, &Network{ID: netID, Config: Config{Driver: Macvlan, Parent: "eth0", Macvlan: MacvlanPrivate}, Parent: "eth0"}, n)
	ctr := container(t, "c1")
	mac := net.HardwareAddr{0x02, 0x42, 0xc0, 0xa8, 0xbe, 0xc8}
	gw := netip.MustParseAddr("192.168.190.2")
	ep, err := d.Join(n, Join{Sandbox: ctr, Ifname: "eth0", Addr: netip.MustParsePrefix("192.168.190.200/24"), MAC: mac, Gateway: gw, Default: true})
	require.NoError(t, err)
	assert.Equal(t, before, linkNames(t, hh), "nothing of the container in the host")

	ch := ctr.Netlink()
	l, err := ch.LinkByName("eth0")
	require.NoError(t, err)
	mv, ok := l.(*netlink.Macvlan)
	require.True(t, ok, "eth0 is a %s", l.Type())
	assert.Equal(t, netlink.MACVLAN_MODE_PRIVATE, mv.Mode)
	assert.Equal(t, mac, mv.HardwareAddr)
	assert.NotZero(t, mv.Flags&net.FlagUp, "up")
	addrs, err := ch.AddrList(l, netlink.FAMILY_V4)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.Equal(t, "192.168.190.200/24", addrs[0].IPNet.String())
	routes, err := ch.RouteList(l, netlink.FAMILY_V4)
	require.NoError(t, err)
	var deflt []string
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			deflt = append(deflt, r.Gw.String())
		}
	}
	assert.Equal(t, []string{"192.168.190.2"}, deflt, "default via the gateway")

	assert.Equal(t, "192.168.190.2", ep.Gateway(), "inspect's Gateway")

	// A second endpoint that is not the container's gateway: no route,
	// the same Gateway in inspect.
	ep2, err := d.Join(n, Join{Sandbox: ctr, Ifname: "eth1", Addr: netip.MustParsePrefix("192.168.190.201/24"), Gateway: gw})
	require.NoError(t, err)
	assert.Equal(t, "192.168.190.2", ep2.Gateway())
	eth1, err := ch.LinkByName("eth1")
	require.NoError(t, err)
	routes, err = ch.RouteList(eth1, netlink.FAMILY_V4)
	require.NoError(t, err)
	for _, r := range routes {
		assert.False(t, r.Dst == nil || r.Dst.IP.IsUnspecified(), "no default route on eth1: %v", r)
	}
	require.NoError(t, ep2.Leave())

	require.NoError(t, ep.Leave())
	_, err = ch.LinkByName("eth0")
	assert.Error(t, err, "Leave removes the link")
	require.NoError(t, ep.Leave(), "twice")
	require.NoError(t, d.Delete(n))
	assert.Equal(t, before, linkNames(t, hh))
}

// TestJoinParentGone: a parent removed since the network was made.
func TestJoinParentGone(t *testing.T) {
	d, hh := host(t)
	require.NoError(t, hh.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth1"}, PeerName: "eth1p"}))
	n, err := d.Create(netID, Config{Driver: Macvlan, Parent: "eth1"})
	require.NoError(t, err)
	l, err := hh.LinkByName("eth1")
	require.NoError(t, err)
	require.NoError(t, hh.LinkDel(l))
	before := linkNames(t, hh)
	_, err = d.Join(n, Join{Sandbox: container(t, "c1"), Ifname: "eth0", Addr: netip.MustParsePrefix("10.30.0.2/24")})
	assert.EqualError(t, err, "the requested parent interface eth1 was not found on the Docker host")
	assert.Equal(t, before, linkNames(t, hh))
}

// TestIPvlan: where the kernel has ipvlan, a container's link is an
// ipvlan child with its parent's MAC and, in l3, a default route to the
// link itself; where it has not (this project's kernel), the join is
// refused with Docker's words for the kernel's refusal, and nothing is
// made. Creating the network needs no ipvlan link either way.
func TestIPvlan(t *testing.T) {
	d, hh := host(t)
	before := linkNames(t, hh)
	n, err := d.Create(netID, Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3})
	require.NoError(t, err)
	ctr := container(t, "c1")
	ep, err := d.Join(n, Join{Sandbox: ctr, Ifname: "eth0", Addr: netip.MustParsePrefix("10.30.0.2/24"), Default: true})
	ok, perr := link.Supported(hh, link.KindIPvlan)
	require.NoError(t, perr)
	if !ok {
		assert.EqualError(t, err, "failed to create the ipvlan port: operation not supported")
		assert.ErrorIs(t, err, syscall.EOPNOTSUPP)
		assert.Equal(t, before, linkNames(t, hh))
		assert.Equal(t, []string{"lo"}, linkNames(t, ctr.Netlink()))
		t.Skip("this kernel lacks the ipvlan link type (ip link add ... type ipvlan: Unknown device type): the refusal is checked, not the link")
	}
	require.NoError(t, err)
	assert.Equal(t, before, linkNames(t, hh))
	l, err := ctr.Netlink().LinkByName("eth0")
	require.NoError(t, err)
	iv, isIPvlan := l.(*netlink.IPVlan)
	require.True(t, isIPvlan, "eth0 is a %s", l.Type())
	assert.Equal(t, netlink.IPVLAN_MODE_L3, iv.Mode)
	parent, err := hh.LinkByName("eth0")
	require.NoError(t, err)
	assert.Equal(t, parent.Attrs().HardwareAddr, iv.HardwareAddr, "the parent's MAC")
	routes, err := ctr.Netlink().RouteList(l, netlink.FAMILY_V4)
	require.NoError(t, err)
	found := false
	for _, r := range routes {
		found = found || (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw == nil
	}
	assert.True(t, found, "default dev eth0: %v", routes)
	require.NoError(t, ep.Leave())
}

// TestVLANParent: -o parent=eth0.50 makes the 802.1Q sub-interface, up,
// and removing the last network that uses it removes it; where the
// kernel lacks the vlan type, the network is refused with Docker's words
// and nothing is made.
func TestVLANParent(t *testing.T) {
	d, hh := host(t)
	before := linkNames(t, hh)
	n, err := d.Create(netID, Config{Driver: Macvlan, Parent: "eth0.50"})
	ok, perr := link.Supported(hh, link.KindVLAN)
	require.NoError(t, perr)
	if !ok {
		assert.EqualError(t, err, "failed to create eth0.50 vlan link: operation not supported")
		assert.ErrorIs(t, err, syscall.EOPNOTSUPP)
		assert.Equal(t, before, linkNames(t, hh))
		n2, err := d.Create(netID, Config{Driver: Macvlan, Internal: true})
		assert.Nil(t, n2)
		assert.EqualError(t, err, "operation not supported", "a parent-less network needs a dummy")
		assert.Equal(t, before, linkNames(t, hh))
		t.Skip("this kernel lacks the vlan and dummy link types (ip link add ... type vlan: Unknown device type): the refusals are checked, not the links")
	}
	require.NoError(t, err)
	assert.True(t, n.CreatedParent)
	l, err := hh.LinkByName("eth0.50")
	require.NoError(t, err)
	v, isVLAN := l.(*netlink.Vlan)
	require.True(t, isVLAN, "a %s", l.Type())
	assert.Equal(t, 50, v.VlanId)
	assert.NotZero(t, v.Flags&net.FlagUp)
	other := "fedcba9876540123456789ab0123456789ab0123456789ab0123456789abcdef"
	n2, err := d.Create(other, Config{Driver: Macvlan, Parent: "eth0.50"})
	require.NoError(t, err)
	assert.True(t, n2.CreatedParent, "shares the made parent")
	require.NoError(t, d.Delete(n))
	_, err = hh.LinkByName("eth0.50")
	assert.NoError(t, err, "kept for the other network")
	require.NoError(t, d.Delete(n2))
	assert.Equal(t, before, linkNames(t, hh), "gone with the last")
}

// TestExistingParentKept: a dotted parent that exists is used and never
// removed.
func TestExistingParentKept(t *testing.T) {
	d, hh := host(t)
	require.NoError(t, hh.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth2.9"}, PeerName: "p29"}))
	n, err := d.Create(netID, Config{Driver: Macvlan, Parent: "eth2.9"})
	require.NoError(t, err)
	assert.False(t, n.CreatedParent)
	require.NoError(t, d.Delete(n))
	_, err = hh.LinkByName("eth2.9")
	assert.NoError(t, err)
}

// TestJoinRollback: a join that fails half-way, here on a name the
// container already has, leaves nothing behind, and the existing link
// alone.
func TestJoinRollback(t *testing.T) {
	d, hh := host(t)
	n, err := d.Create(netID, Config{Driver: Macvlan, Parent: "eth0"})
	require.NoError(t, err)
	ctr := container(t, "c1")
	require.NoError(t, ctr.Netlink().LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"}))
	before, inCtr := linkNames(t, hh), linkNames(t, ctr.Netlink())
	_, err = d.Join(n, Join{Sandbox: ctr, Ifname: "eth0", Addr: netip.MustParsePrefix("192.168.190.200/24")})
	require.ErrorIs(t, err, syscall.EEXIST)
	assert.Equal(t, before, linkNames(t, hh))
	assert.Equal(t, inCtr, linkNames(t, ctr.Netlink()))
	l, err := ctr.Netlink().LinkByName("eth0")
	require.NoError(t, err)
	assert.Equal(t, "veth", l.Type())
}
