package trace

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The walk is assembled from recorded events: these tests build the
// events the kernel sends for the lab's usual ways (the shapes seen on
// real labs, see lab_test.go) and check the steps.

// testTable is the trace's tables' name in the tests.
const testTable = TablePrefix + "-test"

// fakeView answers the walk's questions from tables.
type fakeView struct {
	routes map[string]string // destination: route
	listen string
	noFwd  bool
	silent map[string]bool // neighbours that do not answer
}

func (f fakeView) route(dst netip.Addr) (string, error) {
	if r, ok := f.routes[dst.String()]; ok {
		return r, nil
	}
	return "", errNoRoute
}

func (f fakeView) listening(uint8, netip.Addr, uint16) string { return f.listen }

func (f fakeView) forwards(netip.Addr) bool { return !f.noFwd }

func (f fakeView) unanswered(dst netip.Addr, _ uint32) string {
	if f.silent[dst.String()] {
		return dst.String() + " does not answer ARP"
	}
	return ""
}

// syn is a TCP packet of the test connection.
func tcpPkt(src, dst string, flags uint8, seq, ack uint32, id uint16) Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	return Packet{Src: s.Addr(), Dst: d.Addr(), SPort: s.Port(), DPort: d.Port(), Proto: unix.IPPROTO_TCP,
		Flags: flags, Seq: seq, Ack: ack, IPID: id, TTL: 64}
}

// recorder builds one namespace's event stream.
type recorder struct {
	events []Event
	id     uint32
}

// own adds an event of the trace's own chain (inet, or bridge), with the
// packet dumped, and its policy event.
func (r *recorder) own(chain string, bridge bool, iif, oif uint32, p Packet) {
	r.id++
	fam := uint8(unix.NFPROTO_INET)
	if bridge {
		fam = unix.NFPROTO_BRIDGE
	}
	r.events = append(r.events,
		Event{ID: r.id, Family: fam, Table: testTable, Chain: chain, Kind: KindRule, Verdict: Verdict{Code: -1}, IIF: iif, OIF: oif, Packet: p, Dumped: true},
		Event{ID: r.id, Family: fam, Table: testTable, Chain: chain, Kind: KindPolicy, Verdict: Verdict{Code: 1}, Packet: p})
}

// rule adds a rule event of the lab's own tables; a valid p is dumped
// (the first event of a base chain).
func (r *recorder) rule(table, chain string, handle uint64, v Verdict, p Packet) {
	r.events = append(r.events, Event{ID: r.id, Family: unix.NFPROTO_IPV4, Table: table, Chain: chain, Handle: handle,
		Kind: KindRule, Verdict: v, Packet: p, Dumped: p.Valid()})
}

func (r *recorder) policy(table, chain string, v Verdict) {
	r.events = append(r.events, Event{ID: r.id, Family: unix.NFPROTO_IPV4, Table: table, Chain: chain, Kind: KindPolicy, Verdict: v})
}

var (
	accept = Verdict{Code: 1}
	drop   = Verdict{Code: 0}
)

// hostBook is the host's rules of the article's -p 801:80, abridged.
func hostBook() *book {
	return &book{chains: map[chainKey]*chainInfo{
		{unix.NFPROTO_IPV4, "nat", "PREROUTING"}: {hook: unix.NF_INET_PRE_ROUTING, handles: []uint64{10},
			texts: []string{"-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"}},
		{unix.NFPROTO_IPV4, "nat", "DOCKER"}: {hook: -1, handles: []uint64{11},
			texts: []string{"-A DOCKER ! -i docker0 -p tcp -m tcp --dport 801 -j DNAT --to-destination 172.17.0.2:80"}},
		{unix.NFPROTO_IPV4, "filter", "FORWARD"}: {hook: unix.NF_INET_FORWARD, handles: []uint64{20, 21},
			texts: []string{"-A FORWARD -o docker0 -j ACCEPT", "-A FORWARD -j DROP"}},
	}}
}

// lanLab is client — (an unwatched switch) — host — docker0 — web.
func lanLab() (client, host, web *nodeData) {
	client = &nodeData{name: "client", ifaces: ifaces{2: {Index: 2, Name: "eth0", Kind: "veth", MAC: "c", Peer: 9}},
		view: fakeView{routes: map[string]string{"192.168.190.128": "192.168.190.0/24 dev eth0", "192.168.190.1": "local 192.168.190.1",
			"172.17.0.2": "default via 192.168.190.128 dev eth0"}}}
	host = &nodeData{name: "host", book: hostBook(), ifaces: ifaces{
		1: {Index: 1, Name: "lo", Kind: "device"},
		2: {Index: 2, Name: "eth0", Kind: "veth", MAC: "h", Peer: 10},
		3: {Index: 3, Name: "docker0", Kind: "bridge", MAC: "d"},
		5: {Index: 5, Name: "vethab", Kind: "veth", MAC: "x", Master: 3, Peer: 2},
	}, view: fakeView{routes: map[string]string{"172.17.0.2": "172.17.0.0/16 dev docker0", "192.168.190.128": "local 192.168.190.128",
		"192.168.190.1": "192.168.190.0/24 dev eth0"}}}
	web = &nodeData{name: "web", ifaces: ifaces{2: {Index: 2, Name: "eth0", Kind: "veth", MAC: "w", Peer: 5}},
		view: fakeView{routes: map[string]string{"172.17.0.2": "local 172.17.0.2", "192.168.190.1": "default via 172.17.0.1 dev eth0"},
			listen: "httpd listening"}}
	return client, host, web
}

func walkOf(t testing.TB, nodes []*nodeData, from string, in walkInput) *Walk {
	t.Helper()
	for _, nd := range nodes {
		inheritPackets(nd.events)
	}
	in.from = from
	sent, start := firstSent(nodes, from, match{Port: 40000, Proto: unix.IPPROTO_TCP})
	if start == nil {
		return writeWalk(nil, in)
	}
	return writeWalk(wayOf(nodes, sent, start), in)
}

// publishedEvents are the events of the article's -p 801:80, from the
// client to web.
func publishedEvents() (client, host, web *nodeData) {
	client, host, web = lanLab()
	syn := tcpPkt("192.168.190.1:40000", "192.168.190.128:801", tcpSYN, 1000, 0, 7)
	dnat := syn
	dnat.Dst, dnat.DPort = netip.MustParseAddr("172.17.0.2"), 80
	c := &recorder{}
	c.own(chainOut, false, 0, 2, syn)
	c.own(chainPost, false, 0, 2, syn)
	client.events = c.events
	h := &recorder{}
	arrived := syn
	arrived.SrcMAC, arrived.DstMAC = "c", "h"
	h.own(chainPre, false, 2, 0, arrived)
	h.rule("nat", "PREROUTING", 10, Verdict{Code: -3, Chain: "DOCKER"}, arrived)
	h.rule("nat", "DOCKER", 11, accept, Packet{})
	h.rule("filter", "FORWARD", 20, accept, dnat)
	h.own(chainPost, false, 0, 3, dnat)
	h.own(chainPost, true, 0, 5, dnat)
	host.events = h.events
	w := &recorder{}
	in := dnat
	in.SrcMAC, in.DstMAC = "d", "w"
	w.own(chainPre, false, 2, 0, in)
	w.own(chainIn, false, 2, 0, in)
	web.events = w.events
	return client, host, web
}

func TestWalkPublished(t *testing.T) {
	client, host, web := publishedEvents()
	syn := client.events[0].Packet
	walk := walkOf(t, []*nodeData{client, host, web}, "client", walkInput{})
	assert.Equal(t, []string{
		"client: sends tcp 192.168.190.1:40000 > 192.168.190.128:801 SYN",
		"client: route 192.168.190.0/24 dev eth0",
		"client: leaves by eth0 to host",
		"host: arrives on eth0 from client",
		"host: nat PREROUTING: -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER => jump DOCKER",
		"host: nat DOCKER: -A DOCKER ! -i docker0 -p tcp -m tcp --dport 801 -j DNAT --to-destination 172.17.0.2:80 => accept",
		"host: DNAT 192.168.190.128:801 -> 172.17.0.2:80",
		"host: route 172.17.0.0/16 dev docker0",
		"host: filter FORWARD: -A FORWARD -o docker0 -j ACCEPT => accept",
		"host: leaves by docker0 port vethab to web",
		"web: arrives on eth0 from host",
		"web: route local 172.17.0.2",
		"delivered to web (172.17.0.2:80, httpd listening)",
	}, walk.Lines())
	assert.Equal(t, EndDelivered, walk.End)
	assert.Equal(t, []string{"client", "host", "web"}, walk.Nodes)
	last := walk.Steps[len(walk.Steps)-1]
	assert.Equal(t, 3, last.Hop)

	// Refused: the same way, but the connection was reset.
	walk = writeWalk(wayOf([]*nodeData{client, host, web}, syn, mustStart(t, client, syn)), walkInput{refused: true})
	assert.Equal(t, "refused (RST from web 172.17.0.2:80, nothing listening)", walk.Lines()[len(walk.Lines())-1])
	assert.Equal(t, EndRefused, walk.End)
}

func mustStart(t *testing.T, nd *nodeData, p Packet) *visit {
	t.Helper()
	for _, v := range visits(nd, p) {
		if v.origin() {
			return v
		}
	}
	require.FailNow(t, "no origin pass")
	return nil
}

// TestWalkDropRetransmitted: the SYN is dropped, and its retransmission
// (another IP ID) is dropped again; the walk is the first's.
func TestWalkDropRetransmitted(t *testing.T) {
	client, host, _ := lanLab()
	c, h := &recorder{}, &recorder{}
	for id := uint16(7); id <= 8; id++ {
		syn := tcpPkt("192.168.190.1:40000", "172.17.0.2:80", tcpSYN, 1000, 0, id)
		c.own(chainOut, false, 0, 2, syn)
		c.own(chainPost, false, 0, 2, syn)
		syn.SrcMAC, syn.DstMAC = "c", "h"
		h.own(chainPre, false, 2, 0, syn)
		h.rule("filter", "FORWARD", 21, drop, syn)
	}
	client.events, host.events = c.events, h.events
	walk := walkOf(t, []*nodeData{client, host}, "client", walkInput{})
	assert.Equal(t, []string{
		"client: sends tcp 192.168.190.1:40000 > 172.17.0.2:80 SYN",
		"client: route default via 192.168.190.128 dev eth0",
		"client: leaves by eth0 to host",
		"host: arrives on eth0 from client",
		"host: route 172.17.0.0/16 dev docker0",
		"host: filter FORWARD: -A FORWARD -j DROP => drop",
		"dropped by host filter FORWARD: -A FORWARD -j DROP",
	}, walk.Lines())
	assert.Equal(t, EndDropped, walk.End)
}

// TestWalkLoopback: the host connects to itself; the packet leaves by lo
// and comes back in by it.
func TestWalkLoopback(t *testing.T) {
	_, host, _ := lanLab()
	host.view = fakeView{routes: map[string]string{"192.168.190.128": "local 192.168.190.128"}, listen: "sshd listening"}
	syn := tcpPkt("192.168.190.128:40000", "192.168.190.128:22", tcpSYN, 5, 0, 1)
	h := &recorder{}
	h.own(chainOut, false, 0, 1, syn)
	h.policy("filter", "OUTPUT", accept)
	h.own(chainPost, false, 0, 1, syn)
	h.own(chainPre, false, 1, 0, syn)
	h.own(chainIn, false, 1, 0, syn)
	host.events = h.events
	walk := walkOf(t, []*nodeData{host}, "host", walkInput{})
	assert.Equal(t, []string{
		"host: sends tcp 192.168.190.128:40000 > 192.168.190.128:22 SYN",
		"host: filter OUTPUT: -P OUTPUT ACCEPT",
		"host: route local 192.168.190.128",
		"host: leaves by lo to host",
		"host: arrives on lo from host",
		"host: route local 192.168.190.128",
		"delivered to host (192.168.190.128:22, sshd listening)",
	}, walk.Lines())
}

func TestWalkNoRoute(t *testing.T) {
	client, host, _ := lanLab()
	syn := tcpPkt("192.168.190.1:40000", "10.9.9.9:80", tcpSYN, 1, 0, 1)
	c, h := &recorder{}, &recorder{}
	c.own(chainOut, false, 0, 2, syn)
	c.own(chainPost, false, 0, 2, syn)
	syn.SrcMAC = "c"
	h.own(chainPre, false, 2, 0, syn)
	client.events, host.events = c.events, h.events
	client.view = fakeView{routes: map[string]string{"10.9.9.9": "default via 192.168.190.128 dev eth0"}}
	walk := walkOf(t, []*nodeData{client, host}, "client", walkInput{})
	assert.Equal(t, "no route (host has no route to 10.9.9.9)", walk.Lines()[len(walk.Lines())-1])
	assert.Equal(t, EndNoRoute, walk.End)

	// Forwarding off: there is a route, but the host does not forward.
	host.view = fakeView{routes: map[string]string{"10.9.9.9": "10.9.9.0/24 dev eth1"}, noFwd: true}
	walk = walkOf(t, []*nodeData{client, host}, "client", walkInput{})
	assert.Equal(t, "not forwarded by host (forwarding is off)", walk.Lines()[len(walk.Lines())-1])

	// The host sends it on, and nobody answers its ARP.
	h = &recorder{}
	h.own(chainPre, false, 2, 0, syn)
	h.own(chainPost, false, 0, 2, syn)
	host.events = h.events
	host.view = fakeView{routes: map[string]string{"10.9.9.9": "10.9.9.0/24 dev eth0"}, silent: map[string]bool{"10.9.9.9": true}}
	walk = walkOf(t, []*nodeData{client, host}, "client", walkInput{})
	assert.Equal(t, "lost after leaving host by eth0: 10.9.9.9 does not answer ARP", walk.Lines()[len(walk.Lines())-1])
	assert.Equal(t, EndLost, walk.End)

	// Nothing left the sender: connect failed at once.
	walk = walkOf(t, []*nodeData{{name: "client"}}, "client", walkInput{noSend: unix.ENETUNREACH})
	assert.Equal(t, []string{"no route (client: network is unreachable)"}, walk.Lines())
	assert.Equal(t, EndNoRoute, walk.End)
}

// TestWalkReply: the answer walks back, with the rewrite conntrack makes.
func TestWalkReply(t *testing.T) {
	client, host, web := lanLab()
	sent := tcpPkt("192.168.190.1:40000", "192.168.190.128:801", tcpSYN, 1000, 0, 7)
	synack := tcpPkt("172.17.0.2:80", "192.168.190.1:40000", tcpSYN|tcpACK, 555, 1001, 0)
	undone := synack
	undone.Src, undone.SPort = netip.MustParseAddr("192.168.190.128"), 801
	w, h, c := &recorder{}, &recorder{}, &recorder{}
	w.own(chainOut, false, 0, 2, synack)
	w.own(chainPost, false, 0, 2, synack)
	arrived := synack
	arrived.SrcMAC, arrived.DstMAC = "w", "d"
	h.own(chainPre, true, 5, 0, arrived)
	h.own(chainPre, false, 3, 0, arrived)
	h.rule("filter", "FORWARD", 20, accept, synack)
	h.own(chainPost, false, 0, 2, undone)
	undone.SrcMAC = "h"
	c.own(chainPre, false, 2, 0, undone)
	c.own(chainIn, false, 2, 0, undone)
	web.events, host.events, client.events = w.events, h.events, c.events
	nodes := []*nodeData{client, host, web}
	for _, nd := range nodes {
		inheritPackets(nd.events)
	}
	rp, start := firstReply(nodes, sent)
	require.NotNil(t, start)
	host.view = fakeView{routes: map[string]string{"192.168.190.1": "192.168.190.0/24 dev eth0"}}
	walk := writeWalk(wayOf(nodes, rp, start), walkInput{reply: true})
	assert.Equal(t, []string{
		"web: sends tcp 172.17.0.2:80 > 192.168.190.1:40000 SYN-ACK",
		"web: route default via 172.17.0.1 dev eth0",
		"web: leaves by eth0 to host",
		"host: arrives on docker0 port vethab from web",
		"host: route 192.168.190.0/24 dev eth0",
		"host: filter FORWARD: -A FORWARD -o docker0 -j ACCEPT => accept",
		"host: SNAT 172.17.0.2:80 -> 192.168.190.128:801 (conntrack)",
		"host: leaves by eth0 to client",
		"client: arrives on eth0 from host",
		"client: route local 192.168.190.1",
		"delivered to client (192.168.190.1:40000)",
	}, walk.Lines())
}
