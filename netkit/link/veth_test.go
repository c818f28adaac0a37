package link

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// TestAddVeth: one request makes the pair as netkit's plumb needs it: the host end
// a port of the bridge, txqueuelen 0; the container's end in its namespace
// with its MAC; both down (plumb sets them up), with the MTU and queues
// asked for.
// A request that fails leaves nothing behind in either namespace.
func TestAddVeth(t *testing.T) {
	host, hh := testNS(t)
	ctr, ch := testNS(t)
	require.NoError(t, hh.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0", Flags: net.FlagUp}}))
	br, err := hh.LinkByName("br0")
	require.NoError(t, err)
	c, err := Open(host)
	require.NoError(t, err)
	defer c.Close()

	mac := net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x09}
	pair := VethPair{Host: "vethtest", Master: br.Attrs().Index, MTU: 1400, TxQueues: DefaultTxQueues(), Peer: "eth0", PeerMAC: mac, PeerNS: ctr.Fd()}
	ix, err := c.AddVeth(pair)
	require.NoError(t, err)

	hv, err := hh.LinkByName("vethtest")
	require.NoError(t, err)
	eth0, err := ch.LinkByName("eth0")
	require.NoError(t, err)
	if ix == (VethIndexes{}) {
		t.Log("the kernel sent no echo of the new link (before 6.3): plumb looks eth0 up by name")
	} else {
		assert.Equal(t, VethIndexes{Host: hv.Attrs().Index, Peer: eth0.Attrs().Index}, ix)
	}
	assert.Equal(t, "veth", hv.Type())
	assert.Equal(t, br.Attrs().Index, hv.Attrs().MasterIndex, "host end's master")
	assert.Zero(t, hv.Attrs().Flags&net.FlagUp, "host end down")
	assert.Zero(t, eth0.Attrs().Flags&net.FlagUp, "container end down")
	assert.Equal(t, mac, eth0.Attrs().HardwareAddr)
	for _, l := range []netlink.Link{hv, eth0} {
		assert.Equal(t, 1400, l.Attrs().MTU, "%s's MTU", l.Attrs().Name)
		assert.Equal(t, 0, l.Attrs().TxQLen, "%s's txqueuelen", l.Attrs().Name)
		if pair.TxQueues > 0 {
			assert.Equal(t, pair.TxQueues, l.Attrs().NumTxQueues, "%s's tx queues", l.Attrs().Name)
		}
	}

	// The same names again, and a master that does not exist: refused,
	// and no half-made pair is left.
	_, err = c.AddVeth(pair)
	assert.Error(t, err, "a second vethtest")
	bad := pair
	bad.Host, bad.Peer, bad.Master = "vethtest2", "eth1", 999999
	_, err = c.AddVeth(bad)
	assert.Error(t, err, "a master that does not exist")
	_, err = hh.LinkByName("vethtest2")
	assert.True(t, isLinkNotFound(err), "vethtest2 left behind: %v", err)
	_, err = ch.LinkByName("eth1")
	assert.True(t, isLinkNotFound(err), "eth1 left behind: %v", err)
}
