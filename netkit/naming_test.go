package netkit_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// TestDNSNames: a container's names on a user-defined network are its
// name, its aliases in order, its short ID and its hostname, once each;
// inspect shows them as DNSNames and only the requested aliases as
// Aliases (seen on 28.5.2 and 29.8.1: ["web","site","www","<id12>",
// "webhost"]); the default bridge has none.
func TestDNSNames(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "app", Subnet: netip.MustParsePrefix("10.99.1.0/24")})
	require.NoError(t, err)
	web, err := e.Run(netkit.RunOptions{Name: "web", Hostname: "webhost", Network: netkit.Mode{Network: "app"},
		Aliases: []string{"site", "www", "site", "web"}})
	require.NoError(t, err)
	id := web.ID[:12]
	assert.Equal(t, []string{"web", "site", "www", id, "webhost"}, web.DNSNames("app"))
	n, err := e.Network("app")
	require.NoError(t, err)
	assert.Equal(t, web.DNSNames("app"), web.DNSNames(n.ID), "by the network's ID")
	es := web.Inspect().NetworkSettings.Networks["app"]
	assert.Equal(t, []string{"site", "www", "site", "web"}, es.Aliases, "Aliases as requested (API 1.45+)")
	assert.Equal(t, web.DNSNames("app"), es.DNSNames)
	assert.Equal(t, []string{"site", "www", "web", id, "webhost"}, web.InspectAPI("1.44").NetworkSettings.Networks["app"].Aliases,
		"before API 1.45 the short ID and hostname follow, once each")

	plain, err := e.Run(netkit.RunOptions{Name: "plain", Network: netkit.Mode{Network: "app"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"plain", plain.ID[:12]}, plain.DNSNames("app"), "the hostname is the short ID")
	assert.Nil(t, plain.DNSNames("bridge"), "not on that network")
	assert.Nil(t, plain.Inspect().NetworkSettings.Networks["app"].Aliases)

	// network connect --alias: on the endpoint, in DNSNames; none is an
	// empty list, as the CLI sends it.
	def, err := e.Run(netkit.RunOptions{Name: "def"})
	require.NoError(t, err)
	assert.Nil(t, def.DNSNames("bridge"), "the default bridge has no DNS names")
	require.NoError(t, e.Connect("app", "def", netkit.ConnectOptions{Aliases: []string{"one", "two"}}))
	assert.Equal(t, []string{"def", "one", "two", def.ID[:12]}, def.DNSNames("app"))
	got := def.Inspect().NetworkSettings.Networks
	assert.Equal(t, []string{"one", "two"}, got["app"].Aliases)
	assert.Nil(t, got["bridge"].DNSNames)
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "app2"})
	require.NoError(t, err)
	require.NoError(t, e.Connect("app2", "web", netkit.ConnectOptions{}))
	assert.Equal(t, []string{}, web.Inspect().NetworkSettings.Networks["app2"].Aliases)
	assert.Equal(t, []string{"web", id, "webhost"}, web.DNSNames("app2"), "the run's aliases are for its network only")
}

// TestDNSNamesBeforeAPI144: Docker 20.10 has no DNSNames; the short ID and
// a hostname of its own follow the requested aliases, as requested
// (seen on 20.10.24: ["site","www","site","<id12>","webhost"]).
func TestDNSNamesBeforeAPI144(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{APIVersion: "1.41"}})
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "app"})
	require.NoError(t, err)
	web, err := e.Run(netkit.RunOptions{Name: "web", Network: netkit.Mode{Network: "app"}, Aliases: []string{"site"}})
	require.NoError(t, err)
	es := web.Inspect().NetworkSettings.Networks["app"]
	assert.Equal(t, []string{"site", web.ID[:12]}, es.Aliases)
	assert.Nil(t, es.DNSNames)
	h, err := e.Run(netkit.RunOptions{Name: "hh", Hostname: "webhost", Network: netkit.Mode{Network: "app"},
		Aliases: []string{"site", "www", "site"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"site", "www", "site", h.ID[:12], "webhost"}, h.Inspect().NetworkSettings.Networks["app"].Aliases)
	n, err := e.Run(netkit.RunOptions{Name: "nn", Hostname: "nn", Network: netkit.Mode{Network: "app"}})
	require.NoError(t, err)
	assert.Equal(t, []string{n.ID[:12]}, n.Inspect().NetworkSettings.Networks["app"].Aliases, "a hostname that is the name is not")
}

// TestConnectAliasDefaultBridge: network-scoped aliases on the default
// bridge are refused with each release's text, with --ip's reasons around
// them (seen on 28.5.2 and 29.8.1).
func TestConnectAliasDefaultBridge(t *testing.T) {
	for _, tc := range []struct {
		r             release.Release
		alias, withIP string
	}{
		{release.Release{APIVersion: "1.41"}, "network-scoped alias is supported only for containers in user defined networks",
			"user specified IP address is supported on user defined networks only"},
		{release.Release{Era: release.Era28}, "invalid endpoint settings:\nnetwork-scoped alias is supported only for containers in user defined networks",
			"invalid endpoint settings:\n* user specified IP address is supported on user defined networks only\n" +
				"* network-scoped alias is supported only for containers in user defined networks\n" +
				"* user specified IP address is supported only when connecting to networks with user configured subnets"},
		{release.Release{Era: release.Era29, APIVersion: "1.56"}, "invalid endpoint settings:\nnetwork-scoped aliases are only supported for user-defined networks",
			"invalid endpoint settings:\n* user-specified IP address is supported on user-defined networks only\n" +
				"* network-scoped aliases are only supported for user-defined networks"},
	} {
		t.Run(tc.r.Era.String()+"_"+tc.r.APIVersion, func(t *testing.T) {
			_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: tc.r})
			_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "app"})
			require.NoError(t, err)
			_, err = e.Run(netkit.RunOptions{Name: "web", Network: netkit.Mode{Network: "app"}})
			require.NoError(t, err)
			err = e.Connect("bridge", "web", netkit.ConnectOptions{Aliases: []string{"x"}})
			assert.True(t, errors.Is(err, netkit.ErrInvalid), "%v", err)
			assert.EqualError(t, err, tc.alias)
			err = e.Connect("bridge", "web", netkit.ConnectOptions{Aliases: []string{"x"}, IP: netip.MustParseAddr("172.17.0.50")})
			assert.EqualError(t, err, tc.withIP)
		})
	}
}

// TestNameOptionsInspect: HostConfig's Dns, DnsSearch and DnsOptions are
// empty lists when not given, ExtraHosts and Links null; Config has -h and
// --domainname (seen on 28.5.2 and 29.8.1).
func TestNameOptionsInspect(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	plain, err := e.Run(netkit.RunOptions{Name: "plain"})
	require.NoError(t, err)
	hc := plain.Inspect().HostConfig
	assert.Equal(t, []string{}, hc.Dns)
	assert.Equal(t, []string{}, hc.DnsSearch)
	assert.Equal(t, []string{}, hc.DnsOptions)
	assert.Nil(t, hc.ExtraHosts)
	assert.Nil(t, hc.Links)
	assert.Equal(t, plain.ID[:12], plain.Inspect().Config.Hostname)

	c, err := e.Run(netkit.RunOptions{Name: "cc", Hostname: "box", Domainname: "example.org",
		DNS: []netip.Addr{netip.MustParseAddr("9.9.9.9"), netip.MustParseAddr("::1")}, DNSSearch: []string{"a.example"},
		DNSOptions: []string{"ndots:2"}, ExtraHosts: []string{"h1:1.2.3.4", "gw:host-gateway"},
		Links: []netkit.Link{{Name: "plain", Alias: "web"}, {Name: plain.ID[:5]}}})
	require.NoError(t, err)
	j := c.Inspect()
	assert.Equal(t, []string{"9.9.9.9", "::1"}, j.HostConfig.Dns)
	assert.Equal(t, []string{"a.example"}, j.HostConfig.DnsSearch)
	assert.Equal(t, []string{"ndots:2"}, j.HostConfig.DnsOptions)
	assert.Equal(t, []string{"h1:1.2.3.4", "gw:host-gateway"}, j.HostConfig.ExtraHosts)
	assert.Equal(t, []string{"/plain:/cc/web", "/plain:/cc/" + plain.ID[:5]}, j.HostConfig.Links, "children by name")
	assert.Equal(t, "box", j.Config.Hostname)
	assert.Equal(t, "example.org", j.Config.Domainname)
	assert.Nil(t, j.NetworkSettings.Networks["bridge"].Links)
}

// TestLinks: docker run --link's checks, at create (the daemon's
// registerLinks and host config validation) and at start (the child runs
// on the default bridge), with Docker's texts (seen on 28.5.2 and
// 29.8.1); on a user-defined network a link is the endpoint's.
func TestLinks(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}})
	_, err := e.Run(netkit.RunOptions{Name: "ww"})
	require.NoError(t, err)
	link := []netkit.Link{{Name: "ww", Alias: "web"}}

	c, err := e.Run(netkit.RunOptions{Name: "cc", Links: link})
	require.NoError(t, err)
	assert.Equal(t, []string{"Links on the default bridge network are deprecated and will be removed in a future release. Use a custom network instead."},
		c.Warnings, "29 warns")

	for _, tc := range []struct {
		o    netkit.RunOptions
		want string
	}{
		{netkit.RunOptions{Name: "k1", Links: []netkit.Link{{Name: "nosuch", Alias: "web"}}},
			"could not get container for nosuch: No such container: nosuch"},
		{netkit.RunOptions{Name: "k2", Links: link, Network: netkit.Mode{Kind: netkit.ModeHost}},
			"conflicting options: host type networking can't be used with links. This would result in undefined behavior"},
		{netkit.RunOptions{Name: "k3", Links: link, Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "ww"}},
			"conflicting options: container type network can't be used with links. This would result in undefined behavior"},
		{netkit.RunOptions{Name: "k4", DNS: []netip.Addr{netip.MustParseAddr("9.9.9.9")}, Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "ww"}},
			"conflicting options: dns and the network mode"},
		{netkit.RunOptions{Name: "k5", ExtraHosts: []string{"a:1.2.3.4"}, Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "ww"}},
			"conflicting options: custom host-to-IP mapping and the network mode"},
	} {
		_, err := e.Create(tc.o)
		assert.True(t, errors.Is(err, netkit.ErrInvalid), "%s: %v", tc.o.Name, err)
		assert.EqualError(t, err, tc.want, tc.o.Name)
		_, err = e.Container(tc.o.Name)
		assert.True(t, errors.Is(err, netkit.ErrNotFound), "%s was not created", tc.o.Name)
	}

	// At start: the child must run, on the default bridge.
	_, err = e.Run(netkit.RunOptions{Name: "stopped"})
	require.NoError(t, err)
	st, _ := e.Container("stopped")
	require.NoError(t, st.Stop(0))
	c2, err := e.Run(netkit.RunOptions{Name: "c6", Links: []netkit.Link{{Name: "stopped", Alias: "web"}}})
	assert.EqualError(t, err, "Cannot link to a non running container: /stopped AS /c6/web")
	require.NotNil(t, c2)
	assert.Equal(t, "created", c2.State())
	assert.Empty(t, c2.Inspect().NetworkSettings.SandboxID, "no sandbox")
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "app"})
	require.NoError(t, err)
	onApp, err := e.Run(netkit.RunOptions{Name: "onapp", Network: netkit.Mode{Network: "app"}})
	require.NoError(t, err)
	_, err = e.Run(netkit.RunOptions{Name: "c7", Links: []netkit.Link{{Name: "onapp", Alias: "web"}}})
	assert.EqualError(t, err, "container "+onApp.ID+" not attached to default bridge network")

	// A link on --net none is kept, not checked; on a user network it is
	// the endpoint's, as typed.
	none, err := e.Run(netkit.RunOptions{Name: "c8", Links: []netkit.Link{{Name: "stopped"}}, Network: netkit.Mode{Kind: netkit.ModeNone}})
	require.NoError(t, err)
	assert.Empty(t, none.Warnings)
	assert.Equal(t, []string{"/stopped:/c8/stopped"}, none.Inspect().HostConfig.Links)
	u, err := e.Run(netkit.RunOptions{Name: "c9", Network: netkit.Mode{Network: "app"},
		Links: []netkit.Link{{Name: "onapp", Alias: "w2"}, {Name: "nosuch"}}})
	require.NoError(t, err)
	assert.Nil(t, u.Inspect().HostConfig.Links)
	assert.Equal(t, []string{"onapp:w2", "nosuch"}, u.Inspect().NetworkSettings.Networks["app"].Links)
}
