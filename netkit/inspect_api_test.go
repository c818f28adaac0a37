package netkit_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

// TestInspectOlderAPI29: a 29 engine answers a client before API 1.52 with
// the legacy top-level fields of the container's endpoint on "bridge", and
// every key in alphabetical order (observed on 29.8.1 for CLI 28.2.2, API
// 1.50); a container not on "bridge" keeps 29's shape; network inspect
// has no Status.
func TestInspectOlderAPI29(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}})
	c, err := e.Run(netkit.RunOptions{Name: "web"})
	require.NoError(t, err)
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "net"})
	require.NoError(t, err)
	u, err := e.Run(netkit.RunOptions{Name: "un", Network: netkit.Mode{Network: "net"}})
	require.NoError(t, err)

	old := c.InspectAPI("1.50")
	assert.Equal(t, []string{"Args", "Config", "Created", "Driver", "HostConfig", "Id", "Image", "Name", "NetworkSettings",
		"Path", "Platform", "RestartCount", "State"}, keys(t, old), "the whole object is alphabetical")
	var m struct{ NetworkSettings json.RawMessage }
	b, err := json.Marshal(old)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, []string{"EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen",
		"IPv6Gateway", "MacAddress", "Networks", "Ports", "SandboxID", "SandboxKey"}, keys(t, m.NetworkSettings))
	var ns struct {
		IPAddress string
		Networks  map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(m.NetworkSettings, &ns))
	assert.Equal(t, c.IP("bridge").String(), ns.IPAddress, "the legacy fields are the bridge endpoint's")
	assert.Equal(t, []string{"Aliases", "DNSNames", "DriverOpts", "EndpointID", "Gateway", "GlobalIPv6Address",
		"GlobalIPv6PrefixLen", "GwPriority", "IPAMConfig", "IPAddress", "IPPrefixLen", "IPv6Gateway", "Links", "MacAddress",
		"NetworkID"}, keys(t, ns.Networks["bridge"]))

	own := keys(t, c.InspectAPI(""))
	assert.Equal(t, []string{"Id", "Created", "Path"}, own[:3], "the engine's own API keeps its order")
	assert.Equal(t, []string{"SandboxID", "SandboxKey", "Ports", "Networks"}, keys(t, c.InspectAPI("1.52").NetworkSettings))
	assert.Equal(t, []string{"SandboxID", "SandboxKey", "Ports", "Networks"}, keys(t, u.InspectAPI("1.50").NetworkSettings),
		"a container without an endpoint on bridge keeps 29's shape")
	assert.Equal(t, "Id", keys(t, u.InspectAPI("1.50"))[0])

	n, err := e.Network("bridge")
	require.NoError(t, err)
	assert.Contains(t, keys(t, n.InspectAPI(e, "")), "Status")
	nk := keys(t, n.InspectAPI(e, "1.50"))
	assert.NotContains(t, nk, "Status", "Status is for clients of 1.52+")
	assert.Equal(t, "Containers", nk[len(nk)-1])
}

// TestInspectOlderAPIAliases: before API 1.45, an endpoint on a
// user-defined network has the short ID and the hostname among its
// Aliases (observed on 28.5.2 and 29.8.1 at 1.41); the default bridge's
// does not.
func TestInspectOlderAPIAliases(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "net"})
	require.NoError(t, err)
	u, err := e.Run(netkit.RunOptions{Name: "un", Hostname: "custom", Network: netkit.Mode{Network: "net"}})
	require.NoError(t, err)
	c, err := e.Run(netkit.RunOptions{Name: "web"})
	require.NoError(t, err)
	assert.Equal(t, []string{u.ID[:12], "custom"}, u.InspectAPI("1.41").NetworkSettings.Networks["net"].Aliases)
	assert.Equal(t, []string{u.ID[:12], "custom"}, u.InspectAPI("1.44").NetworkSettings.Networks["net"].Aliases)
	assert.Nil(t, u.InspectAPI("1.45").NetworkSettings.Networks["net"].Aliases)
	assert.Nil(t, u.Inspect().NetworkSettings.Networks["net"].Aliases)
	assert.Nil(t, c.InspectAPI("1.41").NetworkSettings.Networks["bridge"].Aliases)
	assert.Equal(t, []string{"un", u.ID[:12], "custom"}, u.InspectAPI("1.41").NetworkSettings.Networks["net"].DNSNames,
		"DNSNames stay for old clients")
	assert.Equal(t, "Bridge", keys(t, c.InspectAPI("1.41").NetworkSettings)[0], "28 keeps its own order")
}

// TestCheckAPIVersion: the engine refuses versions outside its range with
// Docker's texts (observed on 28.5.2 and 29.8.1).
func TestCheckAPIVersion(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}})
	assert.Equal(t, "1.52", e.APIVersion())
	assert.Equal(t, "1.40", e.MinAPIVersion())
	for _, v := range []string{"1.40", "1.41", "1.50", "1.52", "1.52.0"} {
		assert.NoError(t, e.CheckAPIVersion(v), v)
	}
	err := e.CheckAPIVersion("1.39")
	require.True(t, errors.Is(err, netkit.ErrInvalid), "%v", err)
	assert.Equal(t, "client version 1.39 is too old. Minimum supported API version is 1.40, please upgrade your client to a newer version", err.Error())
	err = e.CheckAPIVersion("1.53")
	require.True(t, errors.Is(err, netkit.ErrInvalid), "%v", err)
	assert.Equal(t, "client version 1.53 is too new. Maximum supported API version is 1.52", err.Error())
	err = e.CheckAPIVersion("abc")
	require.True(t, errors.Is(err, netkit.ErrNotFound), "%v", err)
	assert.Equal(t, "page not found", err.Error())
}

// TestEra29Inspect: what a 29 engine shows apart from the API version
// (observed on 29.8.1): the gateway of a --subnet network, the exposed
// ports of a container on an --internal network, and no network after a
// start that failed on a taken port.
func TestEra29Inspect(t *testing.T) {
	for _, era := range []release.Era{release.Era28, release.Era29} {
		t.Run("era"+era.String(), func(t *testing.T) {
			_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: era}})
			n, err := e.CreateNetwork(netkit.NetworkOptions{Name: "net", Subnet: netip.MustParsePrefix("10.99.1.0/24"), Internal: true})
			require.NoError(t, err)
			gw := n.Inspect(e).IPAM.Config[0].Gateway
			c, err := e.Run(netkit.RunOptions{Name: "in", Network: netkit.Mode{Network: "net"}, Expose: mustExpose(t, "80")})
			require.NoError(t, err)
			var exposed []string
			for p := range c.Inspect().NetworkSettings.Ports {
				exposed = append(exposed, p)
			}
			sort.Strings(exposed)
			_, err = e.Run(netkit.RunOptions{Name: "pa", Publish: mustBindings(t, "8080:80")})
			require.NoError(t, err)
			_, err = e.Run(netkit.RunOptions{Name: "pb", Publish: mustBindings(t, "8080:80")})
			require.Error(t, err)
			b, err := e.Container("pb")
			require.NoError(t, err)
			nets := b.Inspect().NetworkSettings.Networks
			if era == release.Era29 {
				assert.Equal(t, "10.99.1.1", gw)
				assert.Equal(t, []string{"80/tcp"}, exposed)
				assert.Empty(t, nets)
				return
			}
			assert.Equal(t, "", gw)
			assert.Empty(t, exposed)
			assert.Contains(t, nets, "bridge")
		})
	}
}

func mustExpose(t *testing.T, spec string) []ports.Port {
	t.Helper()
	p, err := ports.ParseExpose(spec)
	require.NoError(t, err)
	return p
}
