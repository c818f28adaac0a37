package netkit

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/netns"
)

// TestAddVeth: one request makes the pair as plumb needs it: the host end
// a port of the bridge, txqueuelen 0; the container's end in its namespace
// with its MAC; both down (plumb sets them up), with the MTU and queues
// asked for.
// A request that fails leaves nothing behind in either namespace.
func TestAddVeth(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipping: cannot make network namespaces: %v", err)
	}
	host, err := newNode("host")
	require.NoError(t, err)
	t.Cleanup(func() { host.close() })
	ctr, err := newContainerNode("c")
	require.NoError(t, err)
	t.Cleanup(func() { ctr.close() })
	require.NoError(t, host.nl.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0", Flags: net.FlagUp}}))
	br, err := host.nl.LinkByName("br0")
	require.NoError(t, err)
	c, err := host.borrow()
	require.NoError(t, err)
	defer host.giveBack(c)

	mac := net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x09}
	pair := vethPair{host: "vethtest", master: br.Attrs().Index, mtu: 1400, txqs: vethTxQueues(), peer: "eth0", peerMAC: mac, peerNSFd: ctr.ns.Fd()}
	ix, err := addVeth(c.raw, pair)
	require.NoError(t, err)

	hv, err := host.nl.LinkByName("vethtest")
	require.NoError(t, err)
	eth0, err := ctr.Netlink().LinkByName("eth0")
	require.NoError(t, err)
	if ix == (vethIndexes{}) {
		t.Log("the kernel sent no echo of the new link (before 6.3): plumb looks eth0 up by name")
	} else {
		assert.Equal(t, vethIndexes{host: hv.Attrs().Index, peer: eth0.Attrs().Index}, ix)
	}
	assert.Equal(t, "veth", hv.Type())
	assert.Equal(t, br.Attrs().Index, hv.Attrs().MasterIndex, "host end's master")
	assert.Zero(t, hv.Attrs().Flags&net.FlagUp, "host end down")
	assert.Zero(t, eth0.Attrs().Flags&net.FlagUp, "container end down")
	assert.Equal(t, mac, eth0.Attrs().HardwareAddr)
	for _, l := range []netlink.Link{hv, eth0} {
		assert.Equal(t, 1400, l.Attrs().MTU, "%s's MTU", l.Attrs().Name)
		assert.Equal(t, 0, l.Attrs().TxQLen, "%s's txqueuelen", l.Attrs().Name)
		if pair.txqs > 0 {
			assert.Equal(t, pair.txqs, l.Attrs().NumTxQueues, "%s's tx queues", l.Attrs().Name)
		}
	}

	// The same names again, and a master that does not exist: refused,
	// and no half-made pair is left.
	_, err = addVeth(c.raw, pair)
	assert.Error(t, err, "a second vethtest")
	bad := pair
	bad.host, bad.peer, bad.master = "vethtest2", "eth1", 999999
	_, err = addVeth(c.raw, bad)
	assert.Error(t, err, "a master that does not exist")
	_, err = host.nl.LinkByName("vethtest2")
	assert.True(t, isLinkNotFound(err), "vethtest2 left behind: %v", err)
	_, err = ctr.Netlink().LinkByName("eth1")
	assert.True(t, isLinkNotFound(err), "eth1 left behind: %v", err)
}
