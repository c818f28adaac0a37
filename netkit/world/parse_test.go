package world

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseDefault: the shipped classroom world, as the article draws it.
func TestParseDefault(t *testing.T) {
	w := Default()
	assert.Equal(t, "classroom", w.Name)
	assert.Equal(t, "worlds/classroom.yaml", w.File)
	assert.Equal(t, []string{Host, Client, Gateway, Internet}, w.NodeNames())
	assert.Equal(t, []string{Host}, w.DockerNodes())
	assert.Equal(t, []Link{{A: End{Gateway, "eth1"}, B: End{Internet, "eth0"}}}, w.Links)
	assert.Equal(t, End{Gateway, "eth1"}, w.Node(Internet).Iface("eth0").Peer)
	for _, n := range []string{Host, Client, Gateway} {
		assert.Equal(t, "p-"+n, w.Node(n).Iface("eth0").Port)
	}
	assert.Equal(t, netip.MustParsePrefix("192.168.190.128/24"), HostAddr)
	assert.Equal(t, netip.MustParsePrefix("2001:db8:113::10/64"), InternetAddr6)
	assert.Equal(t, map[string]string{
		"HOST_IP": "192.168.190.128", "HOST_IP6": "2001:db8:190::128",
		"CLIENT_IP": "192.168.190.1", "CLIENT_IP6": "2001:db8:190::1",
		"GATEWAY_IP": "192.168.190.2", "GATEWAY_IP6": "2001:db8:190::2",
		"INTERNET_IP": "203.0.113.10", "INTERNET_IP6": "2001:db8:113::10",
	}, Vars())
	assert.Equal(t, Internet, w.Resolver().Name)
	assert.Equal(t, []string{"default via 192.168.190.2", "default via 2001:db8:190::2"}, routeStrings(w.Node(Host)))
	assert.True(t, w.Node(Gateway).Router)
	assert.Equal(t, []Sysctl{{Key: "net.ipv4.ip_forward", Value: "1", Pos: Pos{"worlds/classroom.yaml", 27}}}, w.Node(Host).Sysctls)
}

// TestParseShipped: every shipped world parses.
func TestParseShipped(t *testing.T) {
	require.NotEmpty(t, ShippedNames())
	for _, name := range ShippedNames() {
		_, err := Shipped(name)
		assert.NoError(t, err, name)
	}
	_, err := Load("clasroom")
	assert.ErrorContains(t, err, `no shipped world "clasroom"`)
	assert.ErrorContains(t, err, `did you mean "classroom"?`)
}

func routeStrings(n *Node) []string {
	var out []string
	for _, r := range n.Routes {
		out = append(out, r.String())
	}
	return out
}

// TestParseGood: a world of two LANs, a router on both, a link, a route
// by device, sysctls, dockerd flags and a command.
func TestParseGood(t *testing.T) {
	w, err := Parse("w.yaml", []byte(`
lans: [a, b]
nodes:
  h1:
    dockerd: --bip 172.18.0.1/16
    interfaces:
      eth0: {lan: a, addresses: [10.0.1.10/24]}
    routes: [default via 10.0.1.1]
  r:
    router: true
    interfaces:
      eth0: {lan: a, addresses: [10.0.1.1/24, fd00:1::1/64]}
      eth1: {lan: b, addresses: [10.0.2.1/24]}
      p2p:
        peer: far/eth0
        addresses: [10.9.0.1/30]
    routes:
      - 10.10.0.0/16 via 10.9.0.2
      - 10.11.0.0/16 dev p2p
    sysctls:
      net.ipv4.conf.all.rp_filter: 2
  far:
    command: [sleep, infinity]
    interfaces:
      eth0: {addresses: [10.9.0.2/30]}
`))
	require.NoError(t, err)
	assert.Equal(t, "w", w.Name)
	assert.Equal(t, []string{"h1"}, w.DockerNodes())
	assert.Equal(t, []string{"--bip", "172.18.0.1/16"}, w.Node("h1").Dockerd)
	assert.Equal(t, Pos{"w.yaml", 5}, w.Node("h1").DockerdPos)
	r := w.Node("r")
	assert.Equal(t, "p-r", r.Iface("eth0").Port)
	assert.Equal(t, "p-r-eth1", r.Iface("eth1").Port)
	assert.Equal(t, []Link{{A: End{"r", "p2p"}, B: End{"far", "eth0"}}}, w.Links)
	assert.Equal(t, []string{"10.10.0.0/16 via 10.9.0.2", "10.11.0.0/16 dev p2p"}, routeStrings(r))
	assert.Equal(t, "net/ipv4/conf/all/rp_filter", r.Sysctls[0].Path())
	assert.Equal(t, []string{"sleep", "infinity"}, w.Node("far").Command)
	assert.Equal(t, map[string]string{"H1_IP": "10.0.1.10", "R_IP": "10.0.1.1", "R_IP6": "fd00:1::1", "FAR_IP": "10.9.0.2"}, w.Vars())
	assert.Nil(t, w.Resolver())
	assert.Equal(t, "", w.ResolvConf())
}

// TestParseErrors: every mistake is reported with the file, its line and
// its field, with what is accepted and the near miss where there is one.
func TestParseErrors(t *testing.T) {
	const head = "lans: [lan]\nnodes:\n"
	node := func(lines ...string) string { return head + "  a:\n" + strings.Join(lines, "\n") + "\n" }
	eth0 := "    interfaces:\n      eth0: {lan: lan, addresses: [10.0.0.1/24]}"
	for _, tt := range []struct {
		name, src string
		line      int
		field     string
		msg       string
	}{
		{"syntax", "nodes: [a, b\n", 1, "", "not valid YAML"},
		{"empty", "", 0, "", "the file is empty"},
		{"top typo", "lans: [lan]\nnode:\n  a: {}\n", 2, "node", `unknown field "node" (accepted: name, lans, nodes); did you mean "nodes"?`},
		{"no nodes", "lans: [lan]\n", 1, "nodes", "missing"},
		{"empty nodes", "nodes: {}\n", 1, "nodes", "empty: a world needs nodes"},
		{"iface typo", node("    interfaces:", "      eth0:", "        lan: lan", "        adresses: [10.0.0.1/24]"), 7, "nodes.a.interfaces.eth0.adresses",
			`unknown field "adresses" (accepted: lan, peer, addresses); did you mean "addresses"?`},
		{"node typo", node(eth0, "    rootes: [default via 10.0.0.2]"), 6, "nodes.a.rootes", `did you mean "routes"?`},
		{"bad address", node("    interfaces:", "      eth0: {lan: lan, addresses: [10.0.0.300/24]}"), 5, "nodes.a.interfaces.eth0.addresses[0]", `"10.0.0.300/24" is not an address with its prefix length`},
		{"no prefix length", node("    interfaces:", "      eth0: {lan: lan, addresses: [10.0.0.1]}"), 5, "nodes.a.interfaces.eth0.addresses[0]", "prefix length"},
		{"unknown lan", node("    interfaces:", "      eth0: {lan: lna}"), 5, "nodes.a.interfaces.eth0.lan", `no LAN "lna" (lans: lan); did you mean "lan"?`},
		{"unknown peer node", node("    interfaces:", "      eth0: {peer: bb/eth0}") + "  b:\n    interfaces:\n      eth0: {}\n", 5, "nodes.a.interfaces.eth0.peer", `no node "bb" (nodes: a, b); did you mean "b"?`},
		{"unknown peer iface", node("    interfaces:", "      eth0: {peer: b/eht0}") + "  b:\n    interfaces:\n      eth0: {}\n", 5, "nodes.a.interfaces.eth0.peer", `node b has no interface "eht0" (interfaces: eth0); did you mean "eth0"?`},
		{"bad peer", node("    interfaces:", "      eth0: {peer: b}"), 5, "nodes.a.interfaces.eth0.peer", "is not NODE/INTERFACE"},
		{"lan and peer", node("    interfaces:", "      eth0: {lan: lan, peer: b/eth0}") + "  b:\n    interfaces:\n      eth0: {}\n", 5, "nodes.a.interfaces.eth0", "both lan and peer"},
		{"unattached", node("    interfaces:", "      eth0: {addresses: [10.0.0.1/24]}"), 5, "nodes.a.interfaces.eth0", "attached to nothing"},
		{"gateway off subnet", node(eth0, "    routes: [default via 10.1.0.1]"), 6, "nodes.a.routes", "the gateway 10.1.0.1 is on none of the node's subnets"},
		{"bad route", node(eth0, "    routes: [default by 10.0.0.2]"), 6, "nodes.a.routes[0]", "is not a route"},
		{"route host bits", node(eth0, "    routes: [10.9.0.1/16 via 10.0.0.2]"), 6, "nodes.a.routes[0]", "did you mean 10.9.0.0/16?"},
		{"route dev", node(eth0, "    routes: [10.9.0.0/16 dev eht0]"), 6, "nodes.a.routes", `no interface "eht0" (interfaces: eth0); did you mean "eth0"?`},
		{"route family", node(eth0, "    routes: [10.9.0.0/16 via fd00::1]"), 6, "nodes.a.routes[0]", "not of the destination's family"},
		{"duplicate node", head + "  a: {}\n  a: {}\n", 4, "nodes.a", "given twice (first on line 3)"},
		{"duplicate address", node(eth0) + "  b:\n    interfaces:\n      eth0: {lan: lan, addresses: [10.0.0.1/24]}\n", 8, "nodes.b.interfaces.eth0.addresses", "10.0.0.1 is already a's"},
		{"global sysctl", node("    sysctls: {kernel.pid_max: 1000}"), 4, "nodes.a.sysctls.kernel.pid_max", "only net.* sysctls"},
		{"switch", head + "  switch: {}\n", 3, "nodes.switch", "hidden node"},
		{"node name", head + "  Host1: {}\n", 3, "nodes.Host1", "is not a node name"},
		{"long name", head + "  abcdefghijklmn: {}\n", 3, "nodes.abcdefghijklmn", "at most 13 bytes"},
		{"docker", node("    docker: maybe"), 4, "nodes.a.docker", `want true or false, not "maybe"`},
		{"command", node("    command: [no-such-program-here]"), 4, "nodes.a.command", `no program "no-such-program-here"`},
		{"two resolvers", node(eth0, "    resolver: {x.test: [10.0.0.1]}") + "  b:\n    interfaces:\n      eth0: {lan: lan, addresses: [10.0.0.2/24]}\n    resolver: {y.test: [10.0.0.2]}\n", 7, "nodes.b.resolver", "a world has one resolver, and a has it"},
		{"resolver address", node(eth0, "    resolver: {x.test: [ten]}"), 6, "nodes.a.resolver.x.test[0]", `"ten" is not an IPv4 or IPv6 address`},
		{"lan twice", "lans: [lan, lan]\nnodes:\n  a: {}\n", 1, "lans[1]", `LAN "lan" is given twice`},
		{"interfaces list", node("    interfaces: [eth0]"), 4, "nodes.a.interfaces", "want a mapping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.src))
			require.Error(t, err)
			errs := parseErrors(err)
			require.NotEmpty(t, errs, "%v", err)
			e := errs[0]
			assert.Equal(t, "bad.yaml", e.File)
			assert.Equal(t, tt.line, e.Line, "%v", err)
			assert.Equal(t, tt.field, e.Field, "%v", err)
			assert.Contains(t, e.Msg, tt.msg)
			want := "bad.yaml"
			if tt.line > 0 {
				want += ":" + strconv.Itoa(tt.line)
			}
			assert.True(t, strings.HasPrefix(err.Error(), want+": "), "%v", err)
		})
	}
}

// TestParseAllErrors: every error of a file is reported, in line order.
func TestParseAllErrors(t *testing.T) {
	_, err := Parse("w.yaml", []byte("nodes:\n  a:\n    routerr: true\n    dockr: true\n"))
	errs := parseErrors(err)
	require.Len(t, errs, 2)
	assert.Equal(t, 3, errs[0].Line)
	assert.Equal(t, 4, errs[1].Line)
	assert.Equal(t, `w.yaml:3: nodes.a.routerr: unknown field "routerr" (accepted: docker, dockerd, router, interfaces, routes, sysctls, command, resolver); did you mean "router"?`, errs[0].Error())
}

func parseErrors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		var e *Error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		} else if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}
