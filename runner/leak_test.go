package runner

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/checks"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// labPrefixes hold every address a lab uses: the classroom world, the
// default address pools of Docker's bridge networks, and the private ranges
// scenarios give --bip, --subnet and -b bridges.
var labPrefixes = []netip.Prefix{
	netip.MustParsePrefix("192.168.0.0/16"),
	// The world's internet side is two addresses of 203.0.113.0/24 (the
	// gateway's and the internet server's): the rest of that range may be
	// the machine's own peers.
	netip.MustParsePrefix("203.0.113.0/28"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("10.0.0.0/8"),
}

// TestNothingLeavesTheLab runs the whole scenario suite, as labrun does, and
// watches two things meanwhile:
//
//   - the machine's real interfaces: a capture in the root namespace (an
//     AF_PACKET socket, which reads and changes nothing) on every interface
//     but a real Docker Engine's (docker0, br-*, veth*) sees no packet from
//     or to a lab address;
//   - the labs themselves: every network namespace labrun holds, sampled
//     again and again while scenarios run, has only a loopback, bridges,
//     dummies, and veths (macvlan, ipvlan and 802.1q links) whose other end
//     (parent) is in a lab namespace (never the root one), and
//     routes only through them to gateways on their own links.
func TestNothingLeavesTheLab(t *testing.T) {
	testkit.RequireLab(t)
	insp := newInspector(t)
	root := insp.rootNS

	// Capture on the machine's interfaces.
	rh, err := netlink.NewHandleAt(root.Handle())
	require.NoError(t, err)
	links, err := rh.LinkList()
	require.NoError(t, err)
	prefixes := append([]netip.Prefix(nil), labPrefixes...)
	var ifaces []string
	for _, l := range links {
		name := l.Attrs().Name
		if name == "docker0" || strings.HasPrefix(name, "br-") || strings.HasPrefix(name, "veth") {
			continue
		}
		ifaces = append(ifaces, name)
		// A range the machine itself uses on these interfaces cannot tell
		// lab packets from its own: it is left out (and said so).
		addrs, _ := rh.AddrList(l, netlink.FAMILY_V4)
		for _, a := range addrs {
			ip, _ := netip.AddrFromSlice(a.IP.To4())
			for i := 0; i < len(prefixes); i++ {
				if prefixes[i].Contains(ip) && !ip.IsLoopback() {
					t.Logf("leaving out %s: %s has %s", prefixes[i], name, ip)
					prefixes = append(prefixes[:i], prefixes[i+1:]...)
					i--
				}
			}
		}
	}
	rh.Close()
	var terms []string
	for _, p := range prefixes {
		terms = append(terms, "net "+p.String())
	}
	// DNS too: a name a scenario resolves (a container's, the lab zone's,
	// or one nobody has) must never reach the machine's resolvers, from
	// whatever address it would leave.
	terms = append(terms, "port 53")
	filter := strings.Join(terms, " or ")
	// The interfaces' own counters (read-only, in sysfs) say whether the
	// captures had anything to see.
	counted := func(name string) int {
		n := 0
		for _, f := range []string{"rx_packets", "tx_packets"} {
			b, _ := os.ReadFile("/sys/class/net/" + name + "/statistics/" + f)
			v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			n += v
		}
		return n
	}
	before := map[string]int{}
	var caps []*checks.Capture
	for _, name := range ifaces {
		before[name] = counted(name)
		c, err := checks.StartCapture(root, name, filter)
		require.NoError(t, err, "capturing on the machine's %s", name)
		defer c.Stop()
		caps = append(caps, c)
	}

	// Inspect the labs' namespaces while the scenarios run.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			insp.sample()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})

	scenarios, err := filepath.Glob("../scenarios/*.txt*")
	require.NoError(t, err)
	p := scriptParams(t, testscript.Params{Dir: "../scenarios"}, Options{})
	start := time.Now()
	// The scenarios run in parallel subtests, as under labrun; t.Run
	// returns when all have finished.
	t.Run("scenarios", func(t *testing.T) { testscript.Run(t, p) })
	close(stop)
	wg.Wait()
	insp.sample()

	var leaked []string
	received := 0
	for i, c := range caps {
		pkts, err := c.Stop()
		assert.NoError(t, err, "capture on %s", ifaces[i])
		got, carried := c.Stats().Received, counted(ifaces[i])-before[ifaces[i]]
		received += got
		if carried > 0 && got == 0 {
			t.Errorf("the capture on %s saw nothing while it carried %d packets", ifaces[i], carried)
		}
		for _, pkt := range pkts {
			if labPacket(pkt.Data, prefixes) {
				leaked = append(leaked, ifaces[i]+": "+checks.Summary(pkt))
			}
		}
	}
	if len(leaked) > 0 {
		t.Errorf("packets of a lab on the machine's interfaces:\n%s", strings.Join(leaked, "\n"))
	}
	insp.mu.Lock()
	defer insp.mu.Unlock()
	t.Logf("%d scenarios in %v; captured on %s (%s): %d packets seen, %d of a lab; %d samples of %d lab namespaces, %d links and %d routes checked",
		len(scenarios), time.Since(start).Round(time.Millisecond), strings.Join(ifaces, ", "), filter,
		received, len(leaked), insp.samples, len(insp.namespaces), insp.links, insp.routes)
	if len(insp.namespaces) < 5 {
		t.Errorf("only %d lab namespaces seen: the inspector did not watch the labs", len(insp.namespaces))
	}
	for _, v := range insp.violations {
		t.Error(v)
	}
}

// labNames are in every name the scenarios resolve (scenarios/names-*.txt):
// a DNS packet of the machine's that holds none of them is the machine's own.
var labNames = [][]byte{[]byte("example"), []byte("labrun"), []byte("\x03web"), []byte("nosuch"), []byte("\x03cli")}

// labPacket reports whether a frame captured on the machine's interfaces
// is a lab's: from or to a lab address, or a DNS packet naming a lab name.
func labPacket(frame []byte, prefixes []netip.Prefix) bool {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
	if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
		for _, pr := range prefixes {
			if pr.Contains(src) || pr.Contains(dst) {
				return true
			}
		}
	}
	if app := p.ApplicationLayer(); app != nil {
		for _, n := range labNames {
			if bytes.Contains(bytes.ToLower(app.Payload()), n) {
				return true
			}
		}
	}
	return false
}

// inspector checks, from outside, the network namespaces labrun holds open
// (its descriptors): what their links and routes lead to.
type inspector struct {
	root   string // "net:[N]" of the root namespace
	rootNS *netns.NS

	mu         sync.Mutex
	samples    int
	namespaces map[string]bool
	links      int
	routes     int
	unresolved map[string]int // ns and link → consecutive samples with an unknown peer
	violations []string
}

// newInspector returns an inspector of the namespaces this process holds,
// with the root namespace (this thread's) open until the test ends.
func newInspector(t *testing.T) *inspector {
	t.Helper()
	root, err := netns.Open("/proc/thread-self/ns/net")
	require.NoError(t, err, "opening the root namespace")
	t.Cleanup(func() { root.Close() })
	ino, err := root.Inode()
	require.NoError(t, err, "reading the root namespace's inode")
	return &inspector{root: fmt.Sprintf("net:[%d]", ino), rootNS: root, unresolved: map[string]int{}}
}

// sample inspects every lab namespace once.
func (in *inspector) sample() {
	held := testkit.NamespaceFDs() // "net:[N]" → /proc/self/fd/FD
	delete(held, in.root)
	var opened []*netns.NS
	byIno := map[string]*netns.NS{}
	for ino, p := range held {
		ns, err := netns.Open(p)
		if err != nil {
			continue // closed meanwhile
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", ns.Fd())); err != nil || l != ino {
			ns.Close()
			continue // the descriptor number was reused meanwhile
		}
		opened = append(opened, ns)
		byIno[ino] = ns
	}
	defer func() {
		for _, ns := range opened {
			ns.Close()
		}
	}()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.namespaces == nil {
		in.namespaces = map[string]bool{}
	}
	in.samples++
	seen := map[string]bool{}
	inos := make([]string, 0, len(byIno))
	for ino := range byIno {
		inos = append(inos, ino)
	}
	sort.Strings(inos)
	for _, ino := range inos {
		ns := byIno[ino]
		h, err := netlink.NewHandleAt(ns.Handle())
		if err != nil {
			continue
		}
		in.inspect(ino, h, byIno, seen)
		h.Close()
	}
	for k := range in.unresolved {
		if !seen[k] {
			delete(in.unresolved, k)
		}
	}
}

// inspect checks one namespace's links and routes.
func (in *inspector) inspect(ino string, h *netlink.Handle, lab map[string]*netns.NS, seen map[string]bool) {
	links, err := h.LinkList()
	if err != nil {
		return // the namespace is going away
	}
	in.namespaces[ino] = true
	// The ids this namespace gives its peers: the lab's, and the root's.
	labIDs := map[int]bool{}
	for _, other := range lab {
		if id, err := h.GetNetNsIdByFd(other.Fd()); err == nil && id >= 0 {
			labIDs[id] = true
		}
	}
	rootID := -1
	if id, err := h.GetNetNsIdByFd(in.rootNS.Fd()); err == nil {
		rootID = id
	}
	var onLink []netip.Prefix
	for _, l := range links {
		in.links++
		a := l.Attrs()
		switch l.Type() {
		case "device":
			if a.Name != "lo" {
				in.violate("%s: link %s is a device of its own (%s)", ino, a.Name, l.Type())
			}
		case "bridge", "dummy":
			// A dummy leads nowhere (a parent-less macvlan network's).
		case "veth", "macvlan", "ipvlan", "vlan", "vxlan":
			// A veth's peer, or a macvlan, ipvlan or 802.1q link's
			// parent, must be in a lab namespace; so must a VXLAN
			// tunnel's (its UDP socket lives in the namespace it was
			// made in, which its link-netnsid names once it moved:
			// scenarios/two-hosts-vxlan.txt makes one in a lab node).
			// NETNSA_NSID_NOT_ASSIGNED (-1) may come back as its
			// unsigned 32-bit form: the peer is in this namespace, or
			// has no id here yet.
			switch peer := a.NetNsID; {
			case peer < 0 || uint32(peer) == ^uint32(0) || labIDs[peer]:
			case peer == rootID:
				in.violate("%s: %s %s leads to the root namespace", ino, l.Type(), a.Name)
			default:
				// A lab namespace opened or closed between the descriptor
				// scan and now: an unknown peer is a leak only if it stays.
				k := ino + " " + a.Name
				seen[k] = true
				if in.unresolved[k]++; in.unresolved[k] == 3 {
					in.violate("%s: %s %s leads to namespace id %d, not one of the lab's", ino, l.Type(), a.Name, peer)
				}
			}
		default:
			in.violate("%s: link %s of type %s may lead out of the lab", ino, a.Name, l.Type())
		}
		addrs, _ := h.AddrList(l, netlink.FAMILY_ALL)
		for _, ad := range addrs {
			ip, _ := netip.AddrFromSlice(ad.IP)
			bits, _ := ad.Mask.Size()
			onLink = append(onLink, netip.PrefixFrom(ip.Unmap(), bits).Masked())
		}
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return
	}
	for _, r := range routes {
		in.routes++
		if r.Gw == nil {
			continue
		}
		gw, _ := netip.AddrFromSlice(r.Gw)
		gw = gw.Unmap()
		ok := gw.IsLinkLocalUnicast()
		for _, p := range onLink {
			ok = ok || p.Contains(gw)
		}
		if !ok {
			// Links, addresses and routes are read one after the other: a
			// namespace being torn down can show a route whose link just
			// went. Only a state that stays is a leak.
			k := ino + " route " + fmt.Sprint(r.Dst) + " " + gw.String()
			seen[k] = true
			if in.unresolved[k]++; in.unresolved[k] == 3 {
				in.violate("%s: route %v via %s: the gateway is on none of the namespace's links", ino, r.Dst, gw)
			}
		}
	}
}

func (in *inspector) violate(format string, args ...any) {
	if len(in.violations) < 50 {
		in.violations = append(in.violations, fmt.Sprintf(format, args...))
	}
}

// TestInspectorCatchesLeaks shows that the inspector fails what it should:
// a namespace of this test (not a lab's, but held the same way) with a link
// that is neither a bridge nor a veth, and a route to a gateway on none of
// its links.
func TestInspectorCatchesLeaks(t *testing.T) {
	testkit.RequireLab(t)
	in := newInspector(t)
	h := testkit.Handle(t, testkit.NewNS(t, testkit.NSOptions{}))
	// Equivalent to: ip link add out0 type ifb; ip addr add 10.1.0.1/24 dev out0;
	// ip link set out0 up; ip route add 10.3.0.0/16 via 10.2.0.1 dev out0 onlink
	out := &netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: "out0"}}
	require.NoError(t, h.LinkAdd(out))
	addr, _ := netlink.ParseAddr("10.1.0.1/24")
	require.NoError(t, h.AddrAdd(out, addr))
	require.NoError(t, h.LinkSetUp(out))
	_, dst, _ := netipNet("10.3.0.0/16")
	require.NoError(t, h.RouteAdd(&netlink.Route{LinkIndex: out.Attrs().Index, Dst: dst, Gw: []byte{10, 2, 0, 1}, Flags: int(netlink.FLAG_ONLINK)}))
	for i := 0; i < 3; i++ { // a state must stay for three samples to count
		in.sample()
	}
	got := strings.Join(in.violations, "\n")
	for _, want := range []string{"link out0 of type ifb may lead out of the lab", "route 10.3.0.0/16 via 10.2.0.1: the gateway is on none"} {
		if !strings.Contains(got, want) {
			t.Errorf("the inspector did not report %q; it reported:\n%s", want, got)
		}
	}
}

// netipNet parses a CIDR into what netlink takes.
func netipNet(s string) (netip.Prefix, *net.IPNet, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, nil, err
	}
	return p, &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}, nil
}
