package netkit_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// TestGatewayMoves: a container with -p 8080:80 on the default bridge
// that joins another network keeps or gives up its default routes and its
// published ports as Docker's sandbox picks its gateway (netkit/gateway):
// from 28 a dual-stack network takes them; in every era a network whose
// name sorts before "bridge" does; a disconnect gives them back.
func TestGatewayMoves(t *testing.T) {
	app := netkit.NetworkOptions{Name: "app"}
	for _, c := range []struct {
		era         string
		net         netkit.NetworkOptions
		route, dnat string // after the connect
		route6      string
	}{
		{"27", v6net, "default via 172.17.0.1 dev eth0", "172.17.0.2:80", ""},
		{"28", v6net, "default via 172.18.0.1 dev eth1", "172.18.0.2:80", "default via fd00:db8:1::1 dev eth1"},
		{"29", v6net, "default via 172.18.0.1 dev eth1", "172.18.0.2:80", "default via fd00:db8:1::1 dev eth1"},
		{"27", app, "default via 172.18.0.1 dev eth1", "172.18.0.2:80", ""},
	} {
		t.Run(c.era+"/"+c.net.Name, func(t *testing.T) {
			r, ok := release.Parse(c.era)
			require.True(t, ok)
			lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: r})
			_, err := e.CreateNetwork(c.net)
			require.NoError(t, err)
			_, err = e.Run(netkit.RunOptions{Name: "c1", Publish: mustBindings(t, "8080:80")})
			require.NoError(t, err)
			ctr := node(t, lab, "c1")
			routes := func(family string) string {
				out, err := ctr.Output("ip", family, "route", "show", "default")
				require.NoError(t, err)
				out = regexp.MustCompile(` (proto|metric|pref) \S+`).ReplaceAll(out, nil)
				return regexp.MustCompile(` +\n`).ReplaceAllString(string(out), "\n")
			}
			dnat := regexp.MustCompile(`--dport 8080 -j DNAT --to-destination (\S+)`)
			rules := func() string {
				if m := dnat.FindStringSubmatch(iptablesSave(t, lab)); m != nil {
					return m[1]
				}
				return ""
			}
			require.Equal(t, "default via 172.17.0.1 dev eth0\n", routes("-4"))
			require.Equal(t, "172.17.0.2:80", rules())

			require.NoError(t, e.Connect(c.net.Name, "c1", netkit.ConnectOptions{}))
			assert.Equal(t, c.route+"\n", routes("-4"), "the IPv4 default route after the connect")
			want6 := ""
			if c.route6 != "" {
				want6 = c.route6 + "\n"
			}
			assert.Equal(t, want6, routes("-6"), "the IPv6 default route after the connect")
			assert.Equal(t, c.dnat, rules(), "the DNAT of the published port after the connect")

			require.NoError(t, e.Disconnect(c.net.Name, "c1", false))
			assert.Equal(t, "default via 172.17.0.1 dev eth0\n", routes("-4"), "the IPv4 default route after the disconnect")
			assert.Equal(t, "", routes("-6"), "the IPv6 default route after the disconnect")
			assert.Equal(t, "172.17.0.2:80", rules(), "the DNAT of the published port after the disconnect")
		})
	}
}
