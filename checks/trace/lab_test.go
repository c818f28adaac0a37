package trace

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/nft"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/testkit"
)

// This file traces on real labs, built with netkit in namespaces of their
// own: the article's published port under each firewall back end, a drop,
// and what a trace leaves behind (nothing).

func TestMain(m *testing.M) { testkit.Main(m) }

// labNodes are a lab's world nodes and running containers.
func labNodes(lab *netkit.Lab) []Node {
	var out []Node
	for _, n := range lab.Nodes() {
		nd, err := lab.Node(n)
		if err == nil {
			out = append(out, Node{Name: n, NS: nd.NS()})
		}
	}
	if e := lab.Engine(); e != nil {
		for _, c := range e.Containers(false) {
			if nd := c.Node(); nd != nil {
				out = append(out, Node{Name: c.Name, NS: nd.NS()})
			}
		}
	}
	return out
}

// newLab is a lab with a started engine and a container web, port 80
// published on 801 and served by this test (which shows as trace.test).
func newLab(t *testing.T, do netkit.DaemonOptions) (*netkit.Lab, *netkit.Engine) {
	t.Helper()
	testkit.RequireLab(t)
	lab, err := netkit.NewLab(netkit.LabOptions{Name: "trace"})
	require.NoError(t, err)
	t.Cleanup(func() { lab.Close() })
	e, err := lab.StartEngine(do)
	require.NoError(t, err)
	serve(t, publishWeb(t, e).Node().NS())
	return lab, e
}

// publishWeb runs container web with port 80 published on 801.
func publishWeb(t testing.TB, e *netkit.Engine) *netkit.Container {
	t.Helper()
	b, err := ports.ParsePublish("801:80")
	require.NoError(t, err)
	c, err := e.Run(netkit.RunOptions{Name: "web", Publish: b})
	require.NoError(t, err)
	return c
}

// serve accepts TCP connections on port 80 of ns.
func serve(t testing.TB, ns *netns.NS) {
	t.Helper()
	var ln net.Listener
	require.NoError(t, ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", ":80")
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func run(t *testing.T, lab *netkit.Lab, from string, target ...string) *Result {
	t.Helper()
	tg, err := ParseTarget(target)
	require.NoError(t, err)
	res, err := Run(context.Background(), Options{Nodes: labNodes(lab), From: from, Target: tg, Reply: true})
	require.NoError(t, err)
	t.Logf("%s", res)
	return res
}

// rulesets lists every node's rules: iptables-save's and ip6tables-save's
// (without counters), and every nftables table, chain and rule as the
// kernel holds them.
func rulesets(t *testing.T, lab *netkit.Lab) string {
	t.Helper()
	var b strings.Builder
	for _, n := range labNodes(lab) {
		b.WriteString("== " + n.Name + "\n")
		for _, prog := range []string{"iptables-save", "ip6tables-save"} {
			var out bytes.Buffer
			cmd := exec.Command(prog)
			cmd.Stdout = &out
			require.NoError(t, n.NS.Start(cmd, netns.StartOptions{}))
			require.NoError(t, cmd.Wait())
			for _, l := range strings.Split(out.String(), "\n") {
				if !strings.HasPrefix(l, "#") {
					b.WriteString(l + "\n")
				}
			}
		}
		c, err := nftConn(n.NS)
		require.NoError(t, err)
		chains, err := c.ListChains()
		require.NoError(t, err)
		var lines []string
		for _, ch := range chains {
			rules, err := c.GetRules(ch.Table, ch)
			require.NoError(t, err)
			var texts []string
			for _, r := range rules {
				texts = append(texts, renderRule(r))
			}
			lines = append(lines, familyName(uint8(ch.Table.Family))+" "+ch.Table.Name+" "+ch.Name+": "+strings.Join(texts, "; "))
		}
		sort.Strings(lines)
		b.WriteString(strings.Join(lines, "\n") + "\n")
		c.CloseLasting()
	}
	return b.String()
}

func TestTracePublished(t *testing.T) {
	lab, _ := newLab(t, netkit.DaemonOptions{})
	before := rulesets(t, lab)
	res := run(t, lab, "client", "192.168.190.128:801")
	require.NoError(t, res.Err)
	lines := res.Walk.Lines()
	assert.Contains(t, lines, "host: nat DOCKER: -A DOCKER ! -i docker0 -p tcp -m tcp --dport 801 -j DNAT --to-destination 172.17.0.2:80 => accept")
	assert.Contains(t, lines, "host: DNAT 192.168.190.128:801 -> 172.17.0.2:80")
	assert.Contains(t, lines, "host: filter DOCKER: -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT => accept")
	assert.Contains(t, lines, "client: leaves by eth0 to host")
	assert.Contains(t, lines, "host: arrives on eth0 from client")
	assert.Regexp(t, `(?m)^host: leaves by docker0 port veth[0-9a-f]+ to web$`, strings.Join(lines, "\n")+"\n")
	assert.Equal(t, "delivered to web (172.17.0.2:80, trace.test listening)", lines[len(lines)-1])
	assert.Equal(t, []string{"client", "host", "web"}, res.Walk.Nodes)
	require.NotNil(t, res.Reply)
	assert.Contains(t, res.Reply.Lines(), "host: SNAT 172.17.0.2:80 -> 192.168.190.128:801 (conntrack)")
	assert.Equal(t, EndDelivered, res.Reply.End)
	// The trace's tables are gone, and nothing else changed.
	assert.Equal(t, before, rulesets(t, lab))
	assert.NotContains(t, before, TablePrefix)

	// A port nothing publishes: the host itself resets.
	res = run(t, lab, "client", "192.168.190.128:802")
	assert.ErrorIs(t, res.Err, unix.ECONNREFUSED)
	assert.Equal(t, "refused (RST from host 192.168.190.128:802, nothing listening)", res.Walk.Lines()[len(res.Walk.Lines())-1])
	assert.Equal(t, "host: sends tcp 192.168.190.128:802 > "+res.Walk.Packet.SrcEnd()+" RST-ACK", res.Reply.Lines()[0])

	// The same over IPv6.
	res = run(t, lab, "client", "[2001:db8:190::128]:802")
	assert.ErrorIs(t, res.Err, unix.ECONNREFUSED)
	assert.Equal(t, "refused (RST from host [2001:db8:190::128]:802, nothing listening)", res.Walk.Lines()[len(res.Walk.Lines())-1])

	// Outbound, masqueraded.
	res = run(t, lab, "web", "ping", "203.0.113.10")
	require.NoError(t, res.Err)
	assert.Contains(t, res.Walk.Lines(), "host: nat POSTROUTING: -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE => accept")
	assert.Contains(t, res.Walk.Lines(), "host: SNAT 172.17.0.2 -> 192.168.190.128")
	assert.Equal(t, []string{"web", "host", "gateway", "internet"}, res.Walk.Nodes)
	assert.Contains(t, res.Reply.Lines(), "host: DNAT 192.168.190.128 -> 172.17.0.2 (conntrack)")
}

func TestTraceNFTables(t *testing.T) {
	lab, _ := newLab(t, netkit.DaemonOptions{FirewallBackend: "nftables", Release: release.Release{Era: release.Era29}})
	before := rulesets(t, lab)
	res := run(t, lab, "client", "http://192.168.190.128:801/")
	// The test's server closes at once: no HTTP answer, but the walk.
	lines := res.Walk.Lines()
	assert.Contains(t, lines, `host: ip docker-bridges nat-prerouting-and-output: iifname != "docker0" tcp dport 801 dnat to 172.17.0.2:80 comment "DNAT" => accept`)
	assert.Contains(t, lines, `host: ip docker-bridges filter-forward-in__docker0: ip daddr 172.17.0.2 tcp dport 80 accept => accept`)
	assert.Equal(t, "delivered to web (172.17.0.2:80, trace.test listening)", lines[len(lines)-1])
	assert.Equal(t, before, rulesets(t, lab))
}

func TestTraceDropped(t *testing.T) {
	lab, e := newLab(t, netkit.DaemonOptions{NoICC: true})
	_, err := e.Run(netkit.RunOptions{Name: "other"})
	require.NoError(t, err)
	tg, err := ParseTarget([]string{"172.17.0.2:80"})
	require.NoError(t, err)
	res, err := Run(context.Background(), Options{Nodes: labNodes(lab), From: "other", Target: tg, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
	assert.EqualError(t, res.Err, "timed out after 300ms")
	assert.Equal(t, "dropped by host filter FORWARD: -A FORWARD -i docker0 -o docker0 -j DROP", res.Walk.Lines()[len(res.Walk.Lines())-1])
	assert.Equal(t, EndDropped, res.Walk.End)
	assert.NotContains(t, res.String(), "host: route", "a bridged packet takes no route")
}

// TestMarkOnlyTheConnection: with the marks in place, the namespace's
// other traffic makes no trace event; the marked port's does.
func TestMarkOnlyTheConnection(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{LoopbackUp: true})
	l, err := listen(ns)
	require.NoError(t, err)
	defer l.close()
	serveOn := func(port string) {
		var ln net.Listener
		require.NoError(t, ns.Do(func() error { ln, err = net.Listen("tcp4", "127.0.0.1:"+port); return err }))
		t.Cleanup(func() { ln.Close() })
	}
	serveOn("81")
	serveOn("82")
	dial := func(port uint16, bind uint16) {
		var fd int
		require.NoError(t, ns.Do(func() error { fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); return err }))
		defer unix.Close(fd)
		require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1))
		require.NoError(t, unix.Bind(fd, &unix.SockaddrInet4{Port: int(bind)}))
		require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: int(port), Addr: [4]byte{127, 0, 0, 1}}))
	}
	require.NoError(t, mark(ns, match{Proto: unix.IPPROTO_TCP, Port: 40123, Table: testTable}, false))
	dial(81, 40124)
	evs, err := l.drain()
	require.NoError(t, err)
	assert.Empty(t, evs, "an unmarked connection made trace events")
	dial(81, 40123)
	evs, err = l.drain()
	require.NoError(t, err)
	assert.NotEmpty(t, evs)
	require.NoError(t, unmark(ns, testTable))
	dial(82, 40123)
	evs, err = l.drain()
	require.NoError(t, err)
	// The marked connection's last packets (its closing) may still be
	// reported; the new one, to port 82, must not be.
	for _, ev := range evs {
		assert.False(t, ev.Packet.DPort == 82 || ev.Packet.SPort == 82, "an event after unmark: %+v", ev)
	}
	// unmark is idempotent.
	require.NoError(t, unmark(ns, testTable))
}

// TestRenderKernel programs Docker 29's table into a namespace, reads it
// back and renders each rule: the text is the table's own (as nft lists
// it), counters left out.
func TestRenderKernel(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	b, err := ports.ParsePublish("801:80")
	require.NoError(t, err)
	st := nft.State{
		Networks:  []firewall.Network{{Name: "bridge", Bridge: "docker0", Subnet: netip.MustParsePrefix("172.17.0.0/16")}},
		Endpoints: []nft.Endpoint{{Bridge: "docker0", Addr: netip.MustParseAddr("172.17.0.2")}},
		Ports:     []nft.Publication{{Endpoint: nft.Endpoint{Bridge: "docker0", Addr: netip.MustParseAddr("172.17.0.2")}, Binding: b[0]}},
	}
	rs := nft.Build(st)
	require.NoError(t, nft.NewProgrammer(ns.Fd()).Apply(rs))
	c, err := nftConn(ns)
	require.NoError(t, err)
	defer c.CloseLasting()
	n := 0
	for _, ch := range rs.Chains {
		rules, err := c.GetRules(&nftables.Table{Name: nft.TableName, Family: nftables.TableFamilyIPv4}, &nftables.Chain{Name: ch.Name})
		require.NoError(t, err)
		require.Len(t, rules, len(ch.Rules), "chain %s", ch.Name)
		for i, r := range rules {
			want := strings.ReplaceAll(ch.Rules[i].String(), "counter packets 0 bytes 0 ", "")
			want = strings.TrimSuffix(want, " counter packets 0 bytes 0")
			assert.Equal(t, want, renderRule(r), "chain %s rule %d", ch.Name, i)
			n++
		}
	}
	assert.Greater(t, n, 10)
}

// TestTraceConcurrent: two traces of one lab at once (two shells of a live
// lab) each walk their own connection, and remove their own tables.
func TestTraceConcurrent(t *testing.T) {
	lab, _ := newLab(t, netkit.DaemonOptions{})
	before := rulesets(t, lab)
	results := make(chan *Result, 4)
	for _, tc := range [][]string{{"client", "192.168.190.128:801"}, {"web", "ping", "203.0.113.10"}, {"host", "172.17.0.2:80"}, {"client", "192.168.190.128:802"}} {
		go func() {
			tg, _ := ParseTarget(tc[1:])
			res, err := Run(context.Background(), Options{Nodes: labNodes(lab), From: tc[0], Target: tg})
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	ends := map[string]string{}
	for range 4 {
		if res := <-results; res != nil {
			lines := res.Walk.Lines()
			ends[res.From+" "+res.Target.String()] = lines[len(lines)-1]
		}
	}
	assert.Equal(t, map[string]string{
		"client 192.168.190.128:801": "delivered to web (172.17.0.2:80, trace.test listening)",
		"web ping 203.0.113.10":      "delivered to internet (203.0.113.10)",
		"host 172.17.0.2:80":         "delivered to web (172.17.0.2:80, trace.test listening)",
		"client 192.168.190.128:802": "refused (RST from host 192.168.190.128:802, nothing listening)",
	}, ends)
	assert.Equal(t, before, rulesets(t, lab))
}
