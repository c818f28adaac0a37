package netkit

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/driver"
)

// The engine's side of the macvlan and ipvlan drivers (netkit/driver),
// which make no bridge, no veth and no firewall rule.

// register adds network n to the engine's networks.
func (e *Engine) register(n *Network) {
	e.mu.Lock()
	e.networks = append(e.networks, n)
	e.mu.Unlock()
}

// plumbChild gives the container its link on a macvlan or ipvlan network
// (driver.Drivers.Join), the default route when gateway, and records ep.
//
// Equivalent to: ip link add vethX link PARENT type macvlan mode MODE;
// ip link set vethX netns CTR name ethN; ip -n CTR addr add ...; ...
func (c *Container) plumbChild(ep *endpoint, gateway bool) (err error) {
	c.mu.Lock()
	nd := c.node
	c.mu.Unlock()
	if ep.net.Driver == driver.IPvlan {
		ep.mac = nil // the parent's
	}
	ep.child, err = c.e.drivers.Join(ep.net.link, driver.Join{Sandbox: nd, Ifname: ep.ifname, MAC: ep.mac,
		Addr: netip.PrefixFrom(ep.addr, ep.net.Subnet.Bits()), Gateway: ep.net.Gateway, Default: gateway})
	if err == nil {
		c.record(ep)
	}
	return err
}

// veths counts the container's endpoints on bridge networks, each a veth
// that carries ports. Caller holds c.mu.
func (c *Container) veths() (n int) {
	for _, ep := range c.endpoints {
		if ep.child == nil {
			n++
		}
	}
	return n
}
