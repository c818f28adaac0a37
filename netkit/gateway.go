package netkit

import (
	"fmt"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/gateway"
	"github.com/labrun/labrun/netkit/release"
)

// regateway gives the container's default routes to the endpoints that
// Docker's sandbox picks after a connect or a disconnect (gateway.Pick),
// and moves its published ports to the IPv4 one (the IPv6 one without),
// as updateGateway and the bridge driver's external connectivity do
// (moby/moby v28.5.2 libnetwork/sandbox_linux.go, endpoint.go sbJoin).
//
// Equivalent to: ip -n CTR route replace default via GW dev ethN;
// ip -n CTR -6 route replace default via GW6 dev ethM
func (c *Container) regateway() error {
	c.mu.Lock()
	eps, nd, carrier := append([]*endpoint(nil), c.endpoints...), c.node, c.portsNet
	c.mu.Unlock()
	gs := make([]gateway.Endpoint, len(eps))
	for i, ep := range eps {
		n := ep.net
		gs[i] = gateway.Endpoint{Network: n.Name, Internal: n.Internal, Ifname: ep.ifname, Gw4: n.Gateway}
		if n.DefaultGW.IsValid() {
			gs[i].Gw4 = n.DefaultGW
		}
		if ep.addr6.IsValid() {
			gs[i].Gw6 = n.IPv6.Gateway
		}
	}
	ch := gateway.Choose(gs, c.e.opts.Era >= release.Era28)
	if err := nd.Config(func(h *netlink.Handle) error { return gateway.SetDefaults(h, ch.V4, ch.V6) }); err != nil {
		return fmt.Errorf("moving the gateway of container %s: %w", c.Name, err)
	}
	if ch.Ports < 0 || eps[ch.Ports].net == carrier || len(portsOf(c.opts)) == 0 {
		return nil
	}
	if carrier != nil {
		if err := c.unpublishAll(carrier); err != nil {
			return err
		}
	}
	return c.publish(eps[ch.Ports], nil)
}
