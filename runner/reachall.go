package runner

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/checks"
	"github.com/labrun/labrun/netkit/netns"
)

// reachTarget is a node of the matrix: its namespace and IPv4 addresses.
type reachTarget struct {
	name  string
	ns    *netns.NS
	addrs []netip.Addr
}

// runReachAll is reach -all, Mininet's pingall: one ICMP echo from every
// node and running container to every address of every other, all at
// once, and a matrix of which reached which ("ok" when any of the target's
// addresses answered, "no" else).
func runReachAll(e *Env, timeout time.Duration) error {
	targets, err := reachTargets(e)
	if err != nil {
		return err
	}
	type pair struct{ from, to int }
	ok := map[pair]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(e.Context(), timeout)
	defer cancel()
	for i, from := range targets {
		for j, to := range targets {
			if i == j {
				continue
			}
			for _, a := range to.addrs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := checks.Ping(ctx, from.ns, a); err == nil {
						mu.Lock()
						ok[pair{i, j}] = true
						mu.Unlock()
					}
				}()
			}
		}
	}
	wg.Wait()
	tw := tabwriter.NewWriter(e.Stdout(), 0, 0, 2, ' ', 0)
	header := []string{"FROM \\ TO"}
	for _, t := range targets {
		header = append(header, t.name)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i, from := range targets {
		row := []string{from.name}
		for j := range targets {
			switch {
			case i == j:
				row = append(row, "-")
			case ok[pair{i, j}]:
				row = append(row, "ok")
			default:
				row = append(row, "no")
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// reachTargets lists the world's nodes, then the running containers with a
// namespace of their own, each with its IPv4 addresses (loopback left out).
//
// Equivalent to: ip -4 addr show (in each node)
func reachTargets(e *Env) ([]reachTarget, error) {
	lab, err := e.Lab()
	if err != nil {
		return nil, err
	}
	names := lab.Nodes()
	var ctrs []string
	for _, eng := range lab.Engines() {
		for _, c := range eng.Containers(false) {
			ctrs = append(ctrs, c.Name)
		}
	}
	sort.Strings(ctrs)
	names = append(names, ctrs...)
	var out []reachTarget
	seen := map[*netns.NS]bool{}
	for _, name := range names {
		n, err := lab.Node(name)
		if err != nil || seen[n.NS()] {
			continue // not running, or sharing a namespace already listed
		}
		seen[n.NS()] = true
		h, err := netlink.NewHandleAt(n.NS().Handle())
		if err != nil {
			return nil, fmt.Errorf("reading the addresses of %s: %w", name, err)
		}
		list, err := h.AddrList(nil, netlink.FAMILY_V4)
		h.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the addresses of %s: %w", name, err)
		}
		t := reachTarget{name: name, ns: n.NS()}
		for _, a := range list {
			if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && !ip.IsLoopback() {
				t.addrs = append(t.addrs, ip)
			}
		}
		out = append(out, t)
	}
	return out, nil
}
