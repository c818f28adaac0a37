package netkit

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/labrun/labrun/netkit/etcfiles"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/resolver"
	"github.com/labrun/labrun/netkit/sandbox"
)

// This file is the engine's side of a container's name service (netkit/
// sandbox): what it is attached to and what its peers are called, its
// files written at each start and rewritten at each connect and
// disconnect, and its resolver started and stopped with it.

// nameService is what a container holds of the name service.
type nameService struct {
	srv *resolver.Server // while it runs, on a user-defined network
	sum sandbox.Sum      // of the resolv.conf labrun wrote last
}

// directory is the engine as a container's name service sees it.
type directory struct{ c *Container }

// endpoints are eps as the name service sees them, each with its
// container's DNS names there.
func endpoints(c *Container, eps []*endpoint) []sandbox.Endpoint {
	out := make([]sandbox.Endpoint, 0, len(eps))
	for _, ep := range eps {
		out = append(out, sandbox.Endpoint{Network: ep.net.Name, Default: ep.net.Default, Internal: ep.net.Internal,
			Addr: ep.addr, Addr6: ep.addr6, Names: c.DNSNames(ep.net.Name)})
	}
	return out
}

func (d directory) Own() []sandbox.Endpoint {
	d.c.mu.Lock()
	eps := slices.Clone(d.c.endpoints)
	d.c.mu.Unlock()
	return endpoints(d.c, eps)
}

func (d directory) Peers(network string) []sandbox.Endpoint {
	e := d.c.e
	e.mu.Lock()
	ctrs := slices.Clone(e.containers)
	e.mu.Unlock()
	var out []sandbox.Endpoint
	for _, x := range ctrs {
		x.mu.Lock()
		var eps []*endpoint
		for _, ep := range x.endpoints {
			if ep.net.Name == network && x.state == stateRunning {
				eps = append(eps, ep)
			}
		}
		x.mu.Unlock()
		out = append(out, endpoints(x, eps)...)
	}
	return out
}

// files returns the container's /etc files as its release writes them;
// joining: it is joining a user-defined network (see startResolver).
func (c *Container) files(joining bool) (sandbox.Files, error) {
	e, o := c.e, c.opts
	host, err := e.lab.etc.Read("node-"+e.host.Name, "resolv.conf")
	if err != nil {
		return sandbox.Files{}, err
	}
	hosts, err := e.lab.etc.Read("node-"+e.host.Name, "hosts")
	if err != nil {
		return sandbox.Files{}, err
	}
	extra, err := etcfiles.ExtraRecords(e.opts.Release, o.ExtraHosts, e.hostGateways())
	if err != nil {
		return sandbox.Files{}, err
	}
	return sandbox.Build(sandbox.FilesOptions{Release: e.opts.Release, HostResolv: host, HostHosts: hosts,
		HostNetwork: o.Network.Kind == ModeHost, Joining: joining, Own: directory{c}.Own(), DNS: o.DNS, DNSSearch: o.DNSSearch,
		DNSOptions: o.DNSOptions, Extra: append(extra, sandbox.LinkRecords(c.linked())...), Hostname: c.Hostname(),
		Domainname: o.Domainname}), nil
}

// hostGateways are the addresses host-gateway stands for: the default
// bridge's gateway (moby/moby daemon/daemon_unix.go setHostGatewayIP,
// v28.5.2).
func (e *Engine) hostGateways() []netip.Addr {
	if n, err := e.Network("bridge"); err == nil && n.Gateway.IsValid() {
		return []netip.Addr{n.Gateway}
	}
	return nil
}

// linked are the running children of the container's legacy links, on
// the default bridge.
func (c *Container) linked() []sandbox.Linked {
	var out []sandbox.Linked
	for _, l := range c.opts.Links {
		if child, err := c.e.Container(l.Name); err == nil && child.IP("bridge").IsValid() {
			out = append(out, sandbox.Linked{Alias: cmp.Or(l.Alias, child.Name), Name: child.Name, Hostname: child.Hostname(),
				Addr: child.IP("bridge"), Exposed: exposedPorts(child.opts), Env: child.opts.Env})
		}
	}
	return out
}

// LinkEnv returns the variables the container's legacy links set in its
// processes (sandbox.LinkEnv).
func (c *Container) LinkEnv() []string { return sandbox.LinkEnv(c.e.opts.Release, c.Name, c.linked()) }

// writeNames writes the container's /etc files and binds them in its
// commands; on a user-defined network it also starts its resolver, once
// started (which waits for one that Start began meanwhile) has returned.
// A container in another's namespace (container: mode) sees that one's
// files, as in Docker.
func (c *Container) writeNames(started func() error) error {
	e, o := c.e, c.opts
	c.mu.Lock()
	nd := c.node
	c.mu.Unlock()
	if o.Network.Kind == ModeContainer {
		if target, err := e.Container(o.Network.Container); err == nil {
			if tn := target.Node(); tn != nil {
				nd.SetBinds(tn.Binds())
			}
		}
		return nil
	}
	f, err := c.files(false)
	if err != nil {
		return err
	}
	c.mu.Lock()
	last := c.names.sum
	c.mu.Unlock()
	binds, sum, err := sandbox.Write(e.lab.etc, c.ID, f.Text, last)
	if err != nil {
		return err
	}
	nd.SetBinds(binds)
	c.mu.Lock()
	c.names.sum = sum
	c.mu.Unlock()
	if err := started(); err != nil {
		return err
	}
	return c.ensureResolver(f)
}

// refreshNames rewrites the container's files after it joined or left a
// network (see sandbox.Refresh); joining its first user-defined network
// starts its resolver.
func (c *Container) refreshNames() error {
	if c.opts.Network.Kind == ModeContainer {
		return nil
	}
	f, err := c.files(false)
	if err != nil {
		return err
	}
	c.mu.Lock()
	last := c.names.sum
	c.mu.Unlock()
	sum, err := sandbox.Refresh(c.e.lab.etc, c.ID, f.Text, last)
	c.mu.Lock()
	c.names.sum = sum
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.ensureResolver(f)
}

// ensureResolver starts the container's resolver if its files name it and
// it does not run yet.
func (c *Container) ensureResolver(f sandbox.Files) error {
	c.mu.Lock()
	running := c.names.srv != nil
	c.mu.Unlock()
	if !f.Internal || running {
		return nil
	}
	return c.startResolver()
}

// startResolver starts the container's embedded DNS server (see
// sandbox.StartResolver), which Start does while the endpoint of its
// user-defined network is being made.
func (c *Container) startResolver() error {
	e := c.e
	f, err := c.files(true)
	if err != nil {
		return err
	}
	c.mu.Lock()
	nd := c.node
	c.mu.Unlock()
	srv, err := sandbox.StartResolver(nd.NS(), sandbox.ResolverOptions{NFTables: e.opts.FirewallBackend == "nftables",
		View: sandbox.View{Dir: directory{c}}, Files: f, Dial: c.dialUpstream, Release: e.opts.Release, Logf: e.lab.opts.Logf})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.names.srv = srv
	c.mu.Unlock()
	return nil
}

// stopResolver stops the container's resolver, if it runs.
func (c *Container) stopResolver() error {
	c.mu.Lock()
	srv := c.names.srv
	c.names.srv = nil
	c.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// dialUpstream dials an upstream server from the host's namespace or the
// container's, as Docker's resolver does (moby/moby libnetwork/resolver.go
// dialExtDNS, v28.5.2).
func (c *Container) dialUpstream(ctx context.Context, hostNS bool, network, address string) (net.Conn, error) {
	nd := c.Node()
	if hostNS {
		nd = c.e.host
	}
	if nd == nil {
		return nil, fmt.Errorf("dialing %s: %w", address, ErrNotRunning)
	}
	return nd.Dial(ctx, network, address)
}

// binds returns the container's /etc files as its commands bind them.
func (c *Container) binds() []initproc.Bind {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node == nil {
		return nil
	}
	return c.node.Binds()
}
