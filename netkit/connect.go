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
	} else {
		// Before API 1.44, one reason (moby/moby v20.10.24
		// daemon/container_operations.go validateNetworkingConfig).
		switch {
		case ip.IsValid() && n.Default:
			return derr(ErrInvalid, "user specified IP address is supported on user defined networks only")
		case len(o.Aliases) > 0 && n.Default:
			return derr(ErrInvalid, "%s", ipam.AliasOnPredefined)
		case ip.IsValid() && !n.UserSubnet:
			return derr(ErrInvalid, "user specified IP address is supported only when connecting to networks with user configured subnets")
		case ip.IsValid() && !n.Subnet.Contains(ip):
			return derr(ErrInvalid, "no configured subnet or ip-range contain the IP address %s", ip)
		}
	}
	c.mu.Lock()
	for _, ep := range c.endpoints {
		if ep.net == n {
			c.mu.Unlock()
			return derr(ErrConflict, "endpoint with name %s already exists in network %s", c.Name, n.Name)
		}
	}
	running := c.state == stateRunning
	// The first network that can carry the container out (not
	// --internal) gives it its default route and its published ports,
	// also when it joins after the start (moby/moby
	// libnetwork/sandbox.go updateGateway and the bridge driver's
	// ProgramExternalConnectivity, v28.5.2; seen on 28.5.2).
	gateway := !n.Internal
	for _, ep := range c.endpoints {
		if !ep.net.Internal {
			gateway = false
		}
	}
	publish := gateway && c.portsNet == nil && len(portsOf(c.opts)) > 0
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
	if publish {
		if err := c.publish(ep, nil); err != nil {
			c.detach(ep, nil)
			return err
		}
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
	carries := c.portsNet == n
	c.mu.Unlock()
	if found == nil {
		return derr(ErrNotFound, "container %s is not connected to network %s", c.ID, n.Name)
	}
	if carries {
		// The published ports go with the endpoint that carries them.
		c.unpublishAll(n)
	}
	if err := c.detach(found, nil); err != nil {
		return err
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
