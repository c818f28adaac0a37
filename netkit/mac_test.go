package netkit_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// TestMacAddress: docker run --mac-address gives the container's eth0 that
// MAC, which inspect shows on the endpoint, in network inspect and (28) in
// Config; a host network's entry shows it while the container runs; a
// multicast one fails the start with Docker's text (seen on 28.5.2).
func TestMacAddress(t *testing.T) {
	r28, _ := release.Parse("28.5.2")
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: r28})
	mac, _ := net.ParseMAC("02:42:ac:11:00:99")
	c, err := e.Run(netkit.RunOptions{Name: "m1", MacAddress: mac})
	require.NoError(t, err)
	eth0, err := c.Node().Netlink().LinkByName("eth0")
	require.NoError(t, err)
	require.Equal(t, mac, eth0.Attrs().HardwareAddr, "the kernel's eth0")
	j := c.Inspect()
	require.Equal(t, "02:42:ac:11:00:99", j.NetworkSettings.Networks["bridge"].MacAddress)
	require.Equal(t, "02:42:ac:11:00:99", j.Config.MacAddress)
	n, err := e.Network("bridge")
	require.NoError(t, err)
	require.Equal(t, "02:42:ac:11:00:99", n.Inspect(e).Containers[c.ID].MacAddress)
	second, err := e.Run(netkit.RunOptions{Name: "other"})
	require.NoError(t, err)
	require.NotEqual(t, "02:42:ac:11:00:99", second.Inspect().NetworkSettings.Networks["bridge"].MacAddress)

	hostMAC, _ := net.ParseMAC("02:42:ac:11:00:98")
	h, err := e.Run(netkit.RunOptions{Name: "hh", MacAddress: hostMAC, Network: netkit.Mode{Kind: netkit.ModeHost}})
	require.NoError(t, err)
	require.Equal(t, "02:42:ac:11:00:98", h.Inspect().NetworkSettings.Networks["host"].MacAddress)
	require.Empty(t, h.Inspect().Config.MacAddress, "not a bridge network")
	require.NoError(t, h.Stop(0))
	require.Empty(t, h.Inspect().NetworkSettings.Networks["host"].MacAddress, "stopped")

	multicast, _ := net.ParseMAC("01:42:ac:11:00:96")
	_, err = e.Run(netkit.RunOptions{Name: "bad", MacAddress: multicast})
	require.Error(t, err)
	require.Regexp(t, `^failed to set up container networking: failed to add interface (veth[0-9a-f]{7}) to sandbox: `+
		`error setting interface "veth[0-9a-f]{7}" MAC to "01:42:ac:11:00:96": cannot assign requested address$`, err.Error())
}
