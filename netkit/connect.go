package netkit

import "github.com/labrun/labrun/netkit/ipam"

// Connect attaches a running container to another network (ethN), as
// docker network connect does.
//
// Equivalent to: docker network connect [--ip IP] [--alias ALIAS] NETWORK CONTAINER
func (e *Engine) Connect(network, container string, o ConnectOptions) error {
	ip := o.IP
	n, c, err := e.networkAndContainer(network, container)
	if err != nil {
		return err
	}
	if c.opts.Network.Kind == ModeHost || c.opts.Network.Kind == ModeContainer || c.opts.Network.Kind == ModeNone {
		return derr(ErrInvalid, "container sharing network namespace with another container or host cannot be connected to any other network")
	}
	if e.opts.EndpointSettingsErrors() {
		err := e.endpointError(n, ip, len(o.Aliases) > 0)
		if err == nil && o.IP6.IsValid() {
			err = e.endpointError(n, o.IP6, false)
		}
		if err != nil {
			return derr(ErrInvalid, "%s", err)
		}
	} else if err := ipam.ConnectErrorV1(n.Default, n.UserSubnet, n.Subnet, ip, len(o.Aliases) > 0); err != nil {
		return derr(ErrInvalid, "%s", err)
	}
	c.mu.Lock()
	for _, ep := range c.endpoints {
		if ep.net == n {
			c.mu.Unlock()
			return derr(ErrConflict, "endpoint with name %s already exists in network %s", c.Name, n.Name)
		}
	}
	running := c.state == stateRunning
	// A container without a way out gets its default route with the
	// endpoint; regateway then gives the routes and the published ports
	// to the endpoints Docker's sandbox picks (also when a network
	// joins after the start; seen on 28.5.2).
	gateway := !n.Internal
	for _, ep := range c.endpoints {
		if !ep.net.Internal {
			gateway = false
		}
	}
	c.mu.Unlock()
	if !running {
		return derr(ErrNotRunning, "container %s is not running", c.ID)
	}
	ep, err := c.attach(n, ip, o.IP6, append([]string{}, o.Aliases...), gateway)
	if err != nil {
		return err
	}
	c.mu.Lock()
	ep.connected, ep.ipamCfg = !o.Created, o.IPAMConfig
	c.mu.Unlock()
	if err := c.regateway(); err != nil {
		c.detach(ep, nil)
		return err
	}
	return c.refreshNames()
}

// Disconnect detaches a container from a network.
//
// Equivalent to: docker network disconnect [-f] NETWORK CONTAINER
func (e *Engine) Disconnect(network, container string, force bool) error {
	n, c, err := e.networkAndContainer(network, container)
	if err != nil {
		return err
	}
	c.mu.Lock()
	var found *endpoint
	for _, ep := range c.endpoints {
		if ep.net == n {
			found = ep
		}
	}
	carries, running := c.portsNet == n, c.state == stateRunning
	c.mu.Unlock()
	if found == nil {
		return derr(ErrNotFound, "container %s is not connected to network %s", c.ID, n.Name)
	}
	if carries {
		c.unpublishAll(n)
	}
	if err := c.detach(found, nil); err != nil {
		return err
	}
	if running {
		// The routes and ports go to the sandbox's next pick.
		if err := c.regateway(); err != nil {
			return err
		}
	}
	return c.refreshNames()
}

// networkAndContainer looks up the network and the container that Connect
// and Disconnect name, the network first.
func (e *Engine) networkAndContainer(network, container string) (*Network, *Container, error) {
	n, err := e.Network(network)
	if err != nil {
		return nil, nil, err
	}
	c, err := e.Container(container)
	if err != nil {
		return nil, nil, err
	}
	return n, c, nil
}
