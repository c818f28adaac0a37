package netkit_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/testkit"
)

var lanNet = netkit.NetworkOptions{Name: "lan", Driver: driver.Macvlan, Subnet: netip.MustParsePrefix("192.168.190.0/24"),
	Gateway: netip.MustParseAddr("192.168.190.2"), IPRange: netip.MustParsePrefix("192.168.190.192/27"),
	Options: map[string]string{"parent": "eth0"}}

// hostState is what Docker must not touch for a macvlan network: the
// host's links and firewall.
func hostState(t *testing.T, lab *netkit.Lab) string {
	t.Helper()
	s, err := testkit.NSState(node(t, lab, "host").NS(), testkit.StateOptions{IPTables: true})
	require.NoError(t, err)
	return s.String()
}

// TestMacvlanOnTheLAN: a macvlan container is a host of the LAN: its own
// MAC and address (no NAT: the client sees the container's address as the
// source), its default route via the LAN's gateway, and a name the
// embedded DNS answers. The Docker host cannot reach it through eth0 (the
// kernel's macvlan isolation), until a macvlan "shim" of its own on eth0
// routes to the containers. Nothing of it is in the host: no bridge, no
// veth, no rule.
func TestMacvlanOnTheLAN(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	before := hostState(t, lab)
	n, err := e.CreateNetwork(lanNet)
	require.NoError(t, err)
	assert.Equal(t, "", n.Bridge)
	web, err := e.Run(netkit.RunOptions{Name: "web", Network: netkit.Mode{Network: "lan"}})
	require.NoError(t, err)
	cli, err := e.Run(netkit.RunOptions{Name: "cli", Network: netkit.Mode{Network: "lan"}, IP: netip.MustParseAddr("192.168.190.200")})
	require.NoError(t, err)
	assert.Equal(t, before, hostState(t, lab), "the host's links and rules are untouched")
	require.Equal(t, "192.168.190.192", web.IP("lan").String(), "the first of --ip-range")

	// The container's link, as Docker makes it.
	ctr := node(t, lab, "web")
	eth0, err := ctr.Netlink().LinkByName("eth0")
	require.NoError(t, err)
	mv, ok := eth0.(*netlink.Macvlan)
	require.True(t, ok, "eth0 is a %s", eth0.Type())
	assert.Equal(t, netlink.MACVLAN_MODE_BRIDGE, mv.Mode)
	assert.Equal(t, "02:42:c0:a8:be:c0", mv.HardwareAddr.String(), "Docker 27: 02:42 and the IPv4 address")
	assert.Equal(t, []string{"192.168.190.2"}, defaultRoutes(t, ctr))
	es := web.Inspect().NetworkSettings.Networks["lan"]
	assert.Equal(t, "192.168.190.2", es.Gateway)
	assert.Equal(t, "02:42:c0:a8:be:c0", es.MacAddress)

	// The client reaches it on the LAN, with no NAT between them.
	requireSource(t, lab, "client", "192.168.190.192:80", "web", "192.168.190.192:80", "192.168.190.1")
	// Its peer resolves it by name.
	m := lookup(t, lab, cli, "web")
	require.Len(t, m.Answer, 1)
	assert.Equal(t, "192.168.190.192", m.Answer[0].(*dns.A).A.String())

	// The host does not.
	_, _ = listen(t, ctr, "192.168.190.192:81")
	_, err = dial(node(t, lab, "host"), "192.168.190.192:81")
	require.Error(t, err, "the host cannot reach its macvlan children")

	// The shim: a macvlan of the host's own on eth0, and a route to the
	// containers through it.
	host := node(t, lab, "host")
	parent, err := host.Netlink().LinkByName("eth0")
	require.NoError(t, err)
	shim := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: "shim", ParentIndex: parent.Attrs().Index}, Mode: netlink.MACVLAN_MODE_BRIDGE}
	require.NoError(t, host.Netlink().LinkAdd(shim))
	require.NoError(t, host.AddAddr("shim", netip.MustParsePrefix("192.168.190.250/32")))
	require.NoError(t, host.LinkUp("shim"))
	link.WaitOperUp(host.Netlink(), "shim")
	require.NoError(t, host.Netlink().RouteAdd(&netlink.Route{LinkIndex: shimIndex(t, host), Dst: ipNet("192.168.190.192/27")}))
	requireSource(t, lab, "host", "192.168.190.192:82", "web", "192.168.190.192:82", "192.168.190.250", "through the shim")

	// Removed, it leaves nothing.
	require.NoError(t, host.Netlink().LinkDel(shim))
	require.NoError(t, e.Remove("web", true))
	require.NoError(t, e.Remove("cli", true))
	require.NoError(t, e.RemoveNetwork("lan"))
	assert.Equal(t, before, hostState(t, lab))
}

// defaultRoutes lists the next hops of node n's default routes.
//
// Equivalent to: ip -n N route show default
func defaultRoutes(t *testing.T, n *netkit.Node) []string {
	t.Helper()
	routes, err := n.Netlink().RouteList(nil, netlink.FAMILY_V4)
	require.NoError(t, err)
	var out []string
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			out = append(out, r.Gw.String())
		}
	}
	return out
}

func shimIndex(t *testing.T, host *netkit.Node) int {
	l, err := host.Netlink().LinkByName("shim")
	require.NoError(t, err)
	return l.Attrs().Index
}

func ipNet(s string) *net.IPNet {
	_, n, _ := net.ParseCIDR(s)
	return n
}

// TestMacvlanGateway: without --gateway, up to 28 IPAM reserves the
// subnet's first address as the gateway and the route goes via it; 29
// reserves none: the first container takes .1, with no default route and
// no gateway in inspect (seen on 28.5.2 and 29.8.1). --internal has no
// route in any release.
func TestMacvlanGateway(t *testing.T) {
	for _, tc := range []struct {
		era      release.Era
		internal bool
		ip, gw   string
	}{
		{release.Era27, false, "10.30.0.2", "10.30.0.1"},
		{release.Era28, false, "10.30.0.2", "10.30.0.1"},
		{release.Era29, false, "10.30.0.1", ""},
		{release.Era27, true, "10.30.0.2", ""},
		{release.Era28, true, "10.30.0.1", ""},
		{release.Era29, true, "10.30.0.1", ""},
	} {
		lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: tc.era}})
		_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "mv", Driver: driver.Macvlan, Subnet: netip.MustParsePrefix("10.30.0.0/24"),
			Internal: tc.internal, Options: map[string]string{"parent": "eth0"}})
		require.NoError(t, err)
		c, err := e.Run(netkit.RunOptions{Name: "ctr", Network: netkit.Mode{Network: "mv"}})
		require.NoError(t, err)
		what := tc.era.String()
		if tc.internal {
			what += " --internal"
		}
		assert.Equal(t, tc.ip, c.IP("mv").String(), what)
		assert.Equal(t, tc.gw, c.Inspect().NetworkSettings.Networks["mv"].Gateway, what)
		deflt := defaultRoutes(t, node(t, lab, "ctr"))
		if tc.gw == "" {
			assert.Empty(t, deflt, what)
		} else {
			assert.Equal(t, []string{tc.gw}, deflt, what)
		}
	}
}

// TestMacvlanLifecycle: a network survives an engine restart and its
// containers start again; -p is ignored; a container connected to it gets
// ethN and keeps its default route; disconnecting removes the link; the
// network cannot go while a container is on it.
func TestMacvlanLifecycle(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	_, err := e.CreateNetwork(lanNet)
	require.NoError(t, err)
	web, err := e.Run(netkit.RunOptions{Name: "web", Network: netkit.Mode{Network: "lan"}, Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	assert.Empty(t, web.Ports(), "no port published on macvlan")
	assert.Empty(t, web.Inspect().NetworkSettings.Ports)
	err = e.RemoveNetwork("lan")
	require.ErrorIs(t, err, netkit.ErrConflict)

	e, err = lab.StartEngine(netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	require.NoError(t, err)
	web, err = e.Container("web")
	require.NoError(t, err)
	require.NoError(t, web.Start())
	assert.Equal(t, "192.168.190.192", web.IP("lan").String())

	old, err := e.Run(netkit.RunOptions{Name: "old"})
	require.NoError(t, err)
	require.NoError(t, e.Connect("lan", "old", netkit.ConnectOptions{}))
	on := node(t, lab, "old")
	eth1, err := on.Netlink().LinkByName("eth1")
	require.NoError(t, err)
	assert.Equal(t, "macvlan", eth1.Type())
	es := old.Inspect().NetworkSettings.Networks["lan"]
	assert.Equal(t, "192.168.190.193", es.IPAddress)
	assert.Equal(t, "192.168.190.2", es.Gateway)
	assert.Equal(t, []string{"172.17.0.1"}, defaultRoutes(t, on), "the bridge keeps the default route")
	require.NoError(t, e.Disconnect("lan", "old", false))
	_, err = on.Netlink().LinkByName("eth1")
	assert.Error(t, err, "disconnect removes the link")
	require.NoError(t, e.Remove("web", true))
	require.NoError(t, e.RemoveNetwork("lan"))
}

// TestMacvlanRefusals: Docker's refusals at the engine, each leaving no
// network behind: a parent that does not exist, a subnet that overlaps
// another network's (IPAM's, whatever the driver), a second ipvlan
// network on a parent, and --mac-address on ipvlan at the start.
func TestMacvlanRefusals(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	o := lanNet
	o.Options = map[string]string{"parent": "eth9"}
	_, err := e.CreateNetwork(o)
	require.EqualError(t, err, "invalid subinterface vlan name eth9, example formatting is eth0.10")
	require.ErrorIs(t, err, driver.ErrInvalid)

	_, err = e.CreateNetwork(lanNet)
	require.NoError(t, err)
	o = lanNet
	o.Name, o.Subnet, o.Gateway, o.IPRange = "lan2", netip.MustParsePrefix("192.168.190.128/25"), netip.Addr{}, netip.Prefix{}
	_, err = e.CreateNetwork(o)
	require.EqualError(t, err, "invalid pool request: Pool overlaps with other one on this address space")

	iv := netkit.NetworkOptions{Name: "iv", Driver: driver.IPvlan, Subnet: netip.MustParsePrefix("10.30.1.0/24"), Options: map[string]string{"parent": "eth0"}}
	_, err = e.CreateNetwork(iv)
	require.NoError(t, err, "an ipvlan network needs no ipvlan link yet")
	iv.Name, iv.Subnet = "iv2", netip.MustParsePrefix("10.30.2.0/24")
	_, err = e.CreateNetwork(iv)
	ivNet, nerr := e.Network("iv")
	require.NoError(t, nerr)
	require.EqualError(t, err, "network di-"+ivNet.ShortID()+" is already using parent interface eth0")
	require.ErrorIs(t, err, driver.ErrConflict)

	_, err = e.Run(netkit.RunOptions{Name: "mm", Network: netkit.Mode{Network: "iv"}, MacAddress: net.HardwareAddr{2, 0x42, 0xc0, 0xa8, 0xbe, 0x99}})
	require.EqualError(t, err, "failed to set up container networking: failed to create endpoint mm on network iv: ipvlan interfaces do not support custom mac address assignment")

	names := []string{}
	for _, n := range e.Networks() {
		names = append(names, n.Name)
	}
	assert.Equal(t, "bridge lan iv", strings.Join(names, " "))
}

// TestIPvlanJoin: where the kernel lacks ipvlan (this project's), a
// container's start fails as Docker's does on such a kernel, and leaves
// nothing in the host; where it has it, the container gets its ipvlan
// link with its parent's MAC and no MAC in inspect.
func TestIPvlanJoin(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}})
	before := hostState(t, lab)
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "iv", Driver: driver.IPvlan, Subnet: netip.MustParsePrefix("192.168.190.0/24"),
		Gateway: netip.MustParseAddr("192.168.190.2"), IPRange: netip.MustParsePrefix("192.168.190.192/27"), Options: map[string]string{"parent": "eth0"}})
	require.NoError(t, err)
	c, err := e.Run(netkit.RunOptions{Name: "ctr", Network: netkit.Mode{Network: "iv"}})
	ok, perr := link.Supported(node(t, lab, "host").Netlink(), link.KindIPvlan)
	require.NoError(t, perr)
	if !ok {
		require.EqualError(t, err, "failed to set up container networking: failed to create the ipvlan port: operation not supported")
		assert.True(t, errors.Is(err, syscall.EOPNOTSUPP) || strings.HasSuffix(err.Error(), "operation not supported"))
		assert.Equal(t, "created", c.State())
		assert.Equal(t, before, hostState(t, lab))
		t.Skip("this kernel lacks the ipvlan link type (ip link add ... type ipvlan: Unknown device type): the refusal is checked, not the link")
	}
	require.NoError(t, err)
	es := c.Inspect().NetworkSettings.Networks["iv"]
	assert.Equal(t, "", es.MacAddress)
	assert.Equal(t, "192.168.190.192", es.IPAddress)
	requireSource(t, lab, "client", "192.168.190.192:80", "ctr", "192.168.190.192:80", "192.168.190.1")
}
