package netkit

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/ipam"
	"github.com/labrun/labrun/netkit/names"
)

// A container's names: legacy links on the default bridge (docker run
// --link), network-scoped aliases (--network-alias, network connect
// --alias) and the DNS names the embedded resolver answers.

// linkChildrenLocked resolves docker run's --link children at create, as
// the daemon registers legacy links (moby/moby v28.5.2
// daemon/daemon_unix.go registerLinks): each must exist, a child in
// container: mode stands for the container whose namespace it shares, and
// none may be in host mode. It returns the links with the children's
// names and their aliases. On a user-defined network --link is an
// endpoint alias, which is not registered. Caller holds e.mu.
func (e *Engine) linkChildrenLocked(o RunOptions) ([]Link, error) {
	if len(o.Links) == 0 || o.userDefined() {
		return o.Links, nil
	}
	out := make([]Link, 0, len(o.Links))
	for _, l := range o.Links {
		child, err := e.containerLocked(l.Name)
		for err == nil && child.opts.Network.Kind == ModeContainer {
			child, err = e.containerLocked(child.opts.Network.Container)
		}
		if err != nil {
			return nil, derr(ErrInvalid, "could not get container for %s: %s", l.Name, err)
		}
		if child.opts.Network.Kind == ModeHost {
			return nil, derr(ErrInvalid, "conflicting options: host type networking can't be used with links. This would result in undefined behavior")
		}
		if l.Alias == "" {
			l.Alias = l.Name
		}
		out = append(out, Link{Name: child.Name, Alias: l.Alias})
	}
	return out, nil
}

// userDefined reports whether the container's network is a user-defined
// one (container.NetworkMode.IsUserDefined).
func (o RunOptions) userDefined() bool {
	return o.Network.Kind == ModeBridge && o.Network.String() != "bridge"
}

// checkLinks checks, as a start on the default bridge does, that each
// link's child runs on the default bridge (moby/moby v28.5.2
// daemon/container_operations_unix.go setupLinkedContainers, when it
// makes the container's environment: the start fails before the process
// runs, and inspect shows no sandbox; seen on 28.5.2 and 29.8.1).
func (c *Container) checkLinks() error {
	if o := c.opts; o.Network.Kind != ModeBridge || o.userDefined() || c.e.bridgeNone("bridge") {
		return nil // not on the default bridge (nor -b none)
	}
	for _, l := range c.opts.Links {
		child, err := c.e.Container(l.Name)
		if err != nil {
			continue // removed since
		}
		if child.State() != "running" {
			return derr(ErrInvalid, "Cannot link to a non running container: /%s AS /%s/%s", child.Name, c.Name, l.Alias)
		}
		if !child.IP("bridge").IsValid() {
			return derr(ErrInvalid, "container %s not attached to default bridge network", child.ID)
		}
	}
	return nil
}

// links returns the container's links as inspect shows them: on a
// user-defined network, the endpoint's Links (endpoint true), each as
// typed; elsewhere HostConfig.Links (see names.Link); nil otherwise.
func (c *Container) links(endpoint bool) (out []string) {
	for _, l := range c.opts.Links {
		switch {
		case endpoint != c.opts.userDefined():
			return nil
		case endpoint:
			out = append(out, names.LinkArg(l.Name, l.Alias))
		default:
			out = append(out, names.Link(l.Name, c.Name, l.Alias))
		}
	}
	return out
}

// DNSNames returns the names the embedded DNS answers with the
// container's address on network (a name or ID): its name, its aliases
// there in order, its short ID and its hostname, each once (see
// names.DNSNames); nil on the default bridge or a network it is not
// attached to (moby/moby v28.5.2 daemon/container_operations.go
// updateNetworkConfig). The first is the one PTR answers give.
func (c *Container) DNSNames(network string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ep := range c.endpoints {
		if (ep.net.Name == network || ep.net.ID == network) && !ep.net.Default {
			return names.DNSNames(c.Name, ep.aliases, c.ID, c.configHostname())
		}
	}
	return nil
}

// configHostname is inspect's Config.Hostname: the one a start set, or
// -h, or the short ID.
func (c *Container) configHostname() string {
	switch {
	case c.hostname != "":
		return c.hostname
	case c.opts.Hostname != "":
		return c.opts.Hostname
	}
	return c.ID[:12]
}

// endpointError checks network connect's --ip and --alias on network n
// from API 1.44, every reason under "invalid endpoint settings:" (see
// ipam.EndpointIPError).
func (e *Engine) endpointError(n *Network, ip netip.Addr, aliases bool) error {
	alias := ""
	if aliases && n.Default {
		alias = ipam.AliasOnPredefined
		if e.opts.AliasTexts29() {
			alias = ipam.AliasOnPredefined29
		}
	}
	subnet, static := n.subnetOf(ip) // --ip or --ip6
	if e.opts.EndpointIPTexts29() {
		return ipam.EndpointIPError29(n.Default, subnet, ip, alias)
	}
	return ipam.EndpointIPError(n.Default, static, subnet, ip, alias)
}
