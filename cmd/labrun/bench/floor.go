package bench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
)

// benchFloor times the least the kernel must do for the lab's containers
// without NAT and without a process: per container a fresh network
// namespace, a veth pair with its host end a port of docker0 and the other
// end eth0 in the namespace, IPv6 off on eth0, lo and eth0 up, the address
// and the default route, all with netlink requests; down, the namespaces
// are dropped and the kernel deletes each veth pair with its namespace.
// No iptables, no port publishing, no container process: what is left is
// the floor under labrun's figures (see floorLab). It runs cfg.upParallel
// containers at once up and cfg.downParallel down, as the labrun method.
func benchFloor(cfg *config, n int) (res result) {
	f, err := newFloorLab(cfg.upParallel)
	if err != nil {
		res.err = err
		return res
	}
	defer f.close()
	t0 := time.Now()
	if err := f.up(n, cfg.upParallel); err != nil {
		res.err = err
		return res
	}
	res.up = time.Since(t0)
	t1 := time.Now()
	if err := f.down(cfg.downParallel); err != nil {
		res.err = err
		return res
	}
	res.down = time.Since(t1)
	return res
}

// floorLab is a scratch host with docker0 (no firewall rules) and the
// containers' namespaces the floor method makes.
type floorLab struct {
	host   *scratchHost
	bridge int             // docker0's ifindex
	conns  chan *link.Conn // connections in the host, one per worker
	sys    netns.Sysctls   // the containers' sysctl files (see link.NoIPv6Default)
	ctrs   []*netns.NS
}

// newFloorLab makes the scratch host with docker0, IPv6 off for the host
// ends to come (as labrun's link.HostIPv6Off does while it makes them, here
// once for the whole run), and conns host connections.
//
// Equivalent to: ip link add docker0 type bridge; ip addr add
// 172.17.0.1/16 dev docker0; ip link set docker0 up; sysctl -w
// net.ipv6.conf.default.disable_ipv6=1
func newFloorLab(conns int) (*floorLab, error) {
	host, err := newScratchHost()
	if err != nil {
		return nil, err
	}
	f := &floorLab{host: host, conns: make(chan *link.Conn, conns)}
	if f.bridge, err = host.addBridge(); err != nil {
		f.close()
		return nil, err
	}
	if err := host.ns.WriteSysctl("net/ipv6/conf/default/disable_ipv6", "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.close()
		return nil, fmt.Errorf("turning IPv6 off for the scratch host's new links: %w", err)
	}
	for i := 0; i < conns; i++ {
		c, err := link.Open(host.ns)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("opening netlink in the scratch host: %w", err)
		}
		f.conns <- c
	}
	return f, nil
}

// floorVeth is container i's host end.
func floorVeth(i int) string { return fmt.Sprintf("fv%d", i) }

// up makes containers 0..n-1, par at a time.
func (f *floorLab) up(n, par int) error {
	f.ctrs = make([]*netns.NS, n)
	return forEach(n, par, func(i int) error {
		ns, err := netns.New()
		if err != nil {
			return err
		}
		f.ctrs[i] = ns
		c := <-f.conns
		defer func() { f.conns <- c }()
		return f.plumb(c, ns, i)
	})
}

// plumb wires container i's namespace ns from a thread inside it, with
// netkit's requests (link.Conn.AddVeth: one request for the pair and the
// bridge port; link.NoIPv6Default) and one short-lived handle, as netkit's
// engine wires a container (Container.plumb), less the MAC, MTU and queue
// choices, the firewall and the published port.
//
// Equivalent to: ip link add fvI master docker0 type veth peer name eth0
// netns CTR (its IPv6 off); ip -n CTR link set lo up; ip -n CTR addr add
// 172.17.X.Y/16 dev eth0; ip -n CTR link set eth0 up; ip link set fvI up;
// ip -n CTR route add default via 172.17.0.1
func (f *floorLab) plumb(c *link.Conn, ns *netns.NS, i int) error {
	fd := ns.Fd()
	return ns.Do(func() error {
		restore, err := link.NoIPv6Default(&f.sys)
		if err != nil {
			return fmt.Errorf("turning IPv6 off in container %d: %w", i, err)
		}
		ix, err := c.AddVeth(link.VethPair{Host: floorVeth(i), Master: f.bridge, Peer: "eth0", PeerNS: fd})
		if rerr := restore(); err == nil && rerr != nil {
			err = rerr
		}
		if err != nil {
			return fmt.Errorf("adding veth %s: %w", floorVeth(i), err)
		}
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("opening netlink in container %d: %w", i, err)
		}
		defer h.Close()
		if err := link.SetLoUp(h); err != nil {
			return fmt.Errorf("setting lo up in container %d: %w", i, err)
		}
		eth := netlink.Link(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0", Index: ix.Peer}})
		if ix.Peer == 0 { // a kernel that did not echo the new link
			if eth, err = h.LinkByName("eth0"); err != nil {
				return fmt.Errorf("finding eth0 in container %d: %w", i, err)
			}
		}
		a := ctrAddr(i)
		if err := h.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(subnet.Bits(), 32)}}); err != nil {
			return fmt.Errorf("adding %s to eth0 in container %d: %w", a, i, err)
		}
		if err := h.LinkSetUp(eth); err != nil {
			return fmt.Errorf("setting eth0 up in container %d: %w", i, err)
		}
		hostEnd := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: floorVeth(i), Index: ix.Host}}
		if ix.Host == 0 {
			l, err := c.LinkByName(floorVeth(i))
			if err != nil {
				return fmt.Errorf("finding %s: %w", floorVeth(i), err)
			}
			hostEnd.Index = l.Attrs().Index
		}
		if err := c.LinkSetUp(hostEnd); err != nil {
			return fmt.Errorf("setting %s up: %w", floorVeth(i), err)
		}
		if err := h.RouteAdd(&netlink.Route{Gw: gateway.Addr().AsSlice()}); err != nil {
			return fmt.Errorf("adding the default route in container %d: %w", i, err)
		}
		return nil
	})
}

// down drops the containers' namespaces, par at a time, and waits until
// the kernel has deleted every veth pair with its namespace: deleting the
// host ends first would only add requests (and an RCU grace period each,
// or a link group; see link.Deleter) to what the namespaces' clean-up does
// anyway.
//
// Equivalent to: ip netns del CTR, for each container
func (f *floorLab) down(par int) error {
	err := forEach(len(f.ctrs), par, func(i int) error {
		ns := f.ctrs[i]
		f.ctrs[i] = nil
		if ns == nil {
			return nil
		}
		return ns.Close()
	})
	if err != nil {
		return fmt.Errorf("dropping the containers' namespaces: %w", err)
	}
	return waitVeths(f.host.veths, 0, 2*time.Minute)
}

// close drops what is left.
func (f *floorLab) close() {
	for _, ns := range f.ctrs {
		if ns != nil {
			ns.Close()
		}
	}
	for len(f.conns) > 0 {
		(<-f.conns).Close()
	}
	f.sys.Close()
	f.host.close()
}
