package world

import (
	"fmt"
	"strings"
)

// MaxLine is the longest line Line makes: a packet from r1 to rN crosses
// N-2 routers, and the largest TTL is 255.
const MaxLine = 256

// defaultTTL is the kernel's default TTL (net.ipv4.ip_default_ttl), which
// a line longer than it needs raised at its ends.
const defaultTTL = 64

// Line writes the world file of n routers in a line (`labrun world line
// -n N`; worlds/line-50.yaml is Line(50)): r1 - r2 - ... - rN, router i's
// eth1 linked to router i+1's eth0 over the /30 subnet 10.X.Y.0/30 of link
// i (X.Y its number: 10.0.1.0/30 between r1 and r2), router i at .1 and
// router i+1 at .2. Each router sends what it does not know towards rN,
// and what is for r1's link back towards r1; rN sends everything back:
// two routes a router, whatever n, so that r1 and rN reach each other end
// to end, through n-2 routers, and every router reaches r1 (the routers
// between know no way back to each other's links). R1_IP is r1's address,
// RN_IP rN's. When n-2 routers would use up the default TTL (64), r1 and
// rN send with a TTL of 255.
func Line(n int) ([]byte, error) {
	if n < 2 || n > MaxLine {
		return nil, fmt.Errorf("a line of %d routers: want 2 to %d", n, MaxLine)
	}
	link := func(i int) string { return fmt.Sprintf("10.%d.%d", i>>8, i&255) } // link i's /30, without its last octet
	var b strings.Builder
	fmt.Fprintf(&b, "# %d routers in a line, written by `labrun world line -n %d` (docs/worlds.md):\n", n, n)
	fmt.Fprintf(&b, "#\n#   r1 ── r2 ── ... ── r%d\n#\n", n)
	fmt.Fprintf(&b, "# link i joins ri's eth1 (10.X.Y.1) and r(i+1)'s eth0 (10.X.Y.2) over\n")
	fmt.Fprintf(&b, "# 10.X.Y.0/30, X.Y being i; each router routes what it does not know\n")
	fmt.Fprintf(&b, "# towards r%d and r1's link towards r1.\n", n)
	fmt.Fprintf(&b, "name: line-%d\n\nnodes:\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  r%d:\n    router: true\n    interfaces:\n", i)
		if i > 1 {
			fmt.Fprintf(&b, "      eth0: {addresses: [%s.2/30]}\n", link(i-1))
		}
		if i < n {
			fmt.Fprintf(&b, "      eth1: {peer: r%d/eth0, addresses: [%s.1/30]}\n", i+1, link(i))
		}
		var routes []string
		if i < n {
			routes = append(routes, "default via "+link(i)+".2")
		} else {
			routes = append(routes, "default via "+link(i-1)+".1")
		}
		if i > 2 && i < n {
			routes = append(routes, link(1)+".0/30 via "+link(i-1)+".1")
		}
		fmt.Fprintf(&b, "    routes: [%s]\n", strings.Join(routes, ", "))
		if (i == 1 || i == n) && n-2 >= defaultTTL {
			fmt.Fprintf(&b, "    sysctls: {net.ipv4.ip_default_ttl: 255}\n")
		}
	}
	return []byte(b.String()), nil
}
