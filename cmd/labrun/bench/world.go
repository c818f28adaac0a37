package bench

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/world"
)

// lineStats is the cost of a world of routers in a line (world.Line): the
// median time to build it (NewLab) and to remove it (Close), per node.
type lineStats struct {
	n, runs  int
	up, down time.Duration // medians, whole lab
}

// timeLines builds and removes each line world of sizes runs times, each
// settle after the last one closed, checking each time that r1 reaches rN
// end to end (a TCP connection through the n-2 routers between).
//
// Equivalent to: labrun world line -n N > line.yaml; labrun up -world
// line.yaml; labrun down
func timeLines(sizes []int, runs int, settle time.Duration) ([]lineStats, error) {
	var out []lineStats
	for _, n := range sizes {
		text, err := world.Line(n)
		if err != nil {
			return nil, err
		}
		w, err := world.Parse("line.yaml", text)
		if err != nil {
			return nil, err
		}
		var ups, downs []time.Duration
		for i := 0; i < runs; i++ {
			time.Sleep(settle)
			t0 := time.Now()
			lab, err := netkit.NewLab(netkit.LabOptions{Name: "bench-line", World: w})
			if err != nil {
				return nil, err
			}
			up := time.Since(t0)
			err = endToEnd(lab, "r1", "r"+strconv.Itoa(n))
			t1 := time.Now()
			lab.Close()
			downs = append(downs, time.Since(t1))
			ups = append(ups, up)
			if err != nil {
				return nil, fmt.Errorf("a line of %d routers: %w", n, err)
			}
		}
		slices.Sort(ups)
		slices.Sort(downs)
		out = append(out, lineStats{n: n, runs: runs, up: ups[runs/2], down: downs[runs/2]})
	}
	return out, nil
}

// endToEnd connects from node a to a listener on node b's first address.
func endToEnd(lab *netkit.Lab, a, b string) error {
	addr, ok := lab.World().Node(b).Addr(false)
	if !ok {
		return fmt.Errorf("%s has no IPv4 address", b)
	}
	nb, err := lab.Node(b)
	if err != nil {
		return err
	}
	na, err := lab.Node(a)
	if err != nil {
		return err
	}
	var ln net.Listener
	if err := nb.NS().Do(func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr.Addr(), 0).String())
		return err
	}); err != nil {
		return err
	}
	defer ln.Close()
	return na.NS().Do(func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			return fmt.Errorf("%s to %s: %w", a, b, err)
		}
		return c.Close()
	})
}

// reportLines prints the line worlds' figure.
func reportLines(w io.Writer, ls []lineStats, settle time.Duration) {
	if len(ls) == 0 {
		return
	}
	var parts []string
	for _, l := range ls {
		perNode := func(d time.Duration) float64 { return ms(d) / float64(l.n) }
		parts = append(parts, fmt.Sprintf("N=%d up %.2f ms/node (%.0f ms), down %.2f ms/node", l.n, perNode(l.up), ms(l.up), perNode(l.down)))
	}
	fmt.Fprintf(w, "world of N routers in a line (NewLab from labrun world line -n N, r1 to rN checked end to end, then Close; median of %d, each %s after the last closed): %s\n",
		ls[0].runs, settle, strings.Join(parts, "; "))
}
