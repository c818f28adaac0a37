package netkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/labrun/labrun/netkit/etcfiles"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/nft"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/resolver"
)

// This file is a container's share of Docker's name service: the
// resolv.conf, hosts and hostname it sees (bind-mounted, as Docker does,
// from its own files: moby/moby daemon/container_operations_unix.go,
// v28.5.2) and, once it is on a user-defined network, its embedded DNS
// server at 127.0.0.11 (moby/moby libnetwork/sandbox_dns_unix.go and
// resolver_unix.go, v28.5.2).

// resolverAddr is the embedded resolver's address in every container.
var resolverAddr = netip.MustParseAddr("127.0.0.11")

// nameService is what a running container holds of the name service.
type nameService struct {
	srv *resolver.Server
	// resolvSum is the sum of the resolv.conf labrun wrote last: a file the
	// user changed since is left alone (Docker's resolv.conf.hash).
	resolvSum [32]byte
}

// userNetworked reports whether the container has an endpoint on a
// user-defined network (which gives it the embedded resolver). Caller
// holds c.mu.
func (c *Container) userNetworkedLocked() bool {
	for _, ep := range c.endpoints {
		if !ep.net.Default {
			return true
		}
	}
	return false
}

// writeNames writes the container's /etc files and binds them in its
// commands; on a user-defined network it also starts its resolver, once
// started (which waits for one that Start began meanwhile) has returned.
// A container in another's namespace (container: mode) sees that one's
// files, as in Docker.
func (c *Container) writeNames(started func() error) error {
	e, o := c.e, c.opts
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	if o.Network.Kind == ModeContainer {
		if target, err := e.Container(o.Network.Container); err == nil {
			if tn := target.Node(); tn != nil {
				node.binds = tn.binds
			}
		}
		return nil
	}
	files, internal, err := c.namesFiles()
	if err != nil {
		return err
	}
	binds, err := writeBinds(e.lab.etc, c.ID, files)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.names.resolvSum = sha256.Sum256([]byte(files[etcResolvConf]))
	c.mu.Unlock()
	node.binds = binds
	if err := started(); err != nil {
		return err
	}
	c.mu.Lock()
	running := c.names.srv != nil
	c.mu.Unlock()
	if internal && !running {
		return c.startResolver()
	}
	return nil
}

// namesFiles returns the text of the container's /etc files, and whether
// its resolv.conf names the embedded resolver.
func (c *Container) namesFiles() (map[string]string, bool, error) {
	e, o := c.e, c.opts
	host, err := e.lab.etc.Read("node-"+NodeHost, "resolv.conf")
	if err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	internal := c.userNetworkedLocked()
	var own []netip.Addr
	for _, ep := range c.endpoints {
		own = append(own, ep.addr)
	}
	hostname := c.hostname
	c.mu.Unlock()
	mode := etcfiles.Legacy
	switch {
	case o.Network.Kind == ModeHost:
		mode = etcfiles.HostNetwork
	case internal:
		mode = etcfiles.Internal
	}
	rc := etcfiles.ResolvConf(etcfiles.ResolvOptions{Release: e.opts.Release, Host: host, Resolver: mode,
		DNS: o.DNS, DNSSearch: o.DNSSearch, DNSOptions: o.DNSOptions})
	extra, err := etcfiles.ExtraRecords(e.opts.Release, o.ExtraHosts, e.hostGateways())
	if err != nil {
		return nil, false, err
	}
	extra = append(extra, c.linkRecords()...)
	ho := etcfiles.HostsOptions{Release: e.opts.Release, Extra: extra, Own: own, Hostname: hostname,
		Domainname: o.Domainname}
	if mode == etcfiles.HostNetwork {
		ho.HostNetwork = true
		if ho.Host, err = e.lab.etc.Read("node-"+NodeHost, "hosts"); err != nil {
			return nil, false, err
		}
	}
	return map[string]string{etcResolvConf: string(rc.File), etcHosts: string(etcfiles.Hosts(ho)),
		etcHostname: string(etcfiles.Hostname(hostname))}, internal && !rc.NoResolver, nil
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

// linkRecords are the /etc/hosts lines of the container's legacy links.
func (c *Container) linkRecords() []etcfiles.Record {
	var out []etcfiles.Record
	for _, l := range c.opts.Links {
		child, err := c.e.Container(l.Name)
		if err != nil {
			continue
		}
		alias := l.Alias
		if alias == "" {
			alias = child.Name
		}
		if a := child.IP("bridge"); a.IsValid() {
			out = append(out, etcfiles.LinkRecord(a, alias, child.Hostname(), child.Name))
		}
	}
	return out
}

// refreshNames rewrites the container's hosts file, and its resolv.conf
// when the user has not changed it, after it joined or left a network;
// joining its first user-defined network starts its resolver (moby/moby
// libnetwork/sandbox_dns_unix.go rebuildDNS and updateHostsFile, v28.5.2).
func (c *Container) refreshNames() error {
	if c.opts.Network.Kind == ModeContainer {
		return nil
	}
	files, internal, err := c.namesFiles()
	if err != nil {
		return err
	}
	d := c.e.lab.etc
	if _, err := d.Write(c.ID, "hosts", []byte(files[etcHosts])); err != nil {
		return err
	}
	cur, err := d.Read(c.ID, "resolv.conf")
	if err != nil {
		return err
	}
	c.mu.Lock()
	unchanged := sha256.Sum256(cur) == c.names.resolvSum
	started := c.names.srv != nil
	c.mu.Unlock()
	if unchanged && !bytes.Equal(cur, []byte(files[etcResolvConf])) {
		if _, err := d.Write(c.ID, "resolv.conf", []byte(files[etcResolvConf])); err != nil {
			return err
		}
		c.mu.Lock()
		c.names.resolvSum = sha256.Sum256([]byte(files[etcResolvConf]))
		c.mu.Unlock()
	}
	if internal && !started {
		return c.startResolver()
	}
	return nil
}

// startResolver starts the container's embedded DNS server on
// 127.0.0.11, a UDP and a TCP port of its own, and the NAT rules that send
// port 53 there, as Docker's iptables or nftables back end writes them.
//
// Equivalent to: iptables -t nat -I DOCKER_OUTPUT -d 127.0.0.11 -p udp
// --dport 53 -j DNAT --to-destination 127.0.0.11:PORT (and the rest of
// firewall.ResolverNAT) in the container's namespace
func (c *Container) startResolver() error {
	e := c.e
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	var udp net.PacketConn
	var tcp net.Listener
	err := node.ns.Do(func() (err error) {
		if udp, err = net.ListenPacket("udp4", resolverAddr.String()+":0"); err != nil {
			return err
		}
		if tcp, err = net.Listen("tcp4", resolverAddr.String()+":0"); err != nil {
			udp.Close()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("starting the embedded DNS server: %w", err)
	}
	srv, err := resolver.Serve(udp, tcp, resolver.Config{
		Sandbox: sandbox{c}, Upstreams: c.upstreams(), Dial: c.dialUpstream, Release: e.opts.Release,
		UserNdots: c.userNdots(), Logf: e.lab.opts.Logf})
	if err != nil {
		udp.Close()
		tcp.Close()
		return fmt.Errorf("starting the embedded DNS server: %w", err)
	}
	up, tp := srv.Addrs()
	if e.opts.FirewallBackend == "nftables" {
		err = nft.NewProgrammer(node.ns.Fd()).Apply(nft.DNSTable(up, tp))
	} else {
		err = firewall.NewProgrammer(node.ns, firewall.Options{Logf: e.lab.opts.Logf}).Apply(firewall.ResolverNAT(up, tp))
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("programming the embedded DNS server's rules: %w", err)
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

// upstreams are the servers the resolver forwards to: those of the
// container's resolv.conf as Docker computes them (ExtServers).
func (c *Container) upstreams() []resolver.Upstream {
	host, err := c.e.lab.etc.Read("node-"+NodeHost, "resolv.conf")
	if err != nil {
		return nil
	}
	rc := etcfiles.ResolvConf(etcfiles.ResolvOptions{Release: c.e.opts.Release, Host: host, Resolver: etcfiles.Internal,
		DNS: c.opts.DNS, DNSSearch: c.opts.DNSSearch, DNSOptions: c.opts.DNSOptions})
	var out []resolver.Upstream
	for _, u := range rc.Upstreams {
		out = append(out, resolver.Upstream{Addr: netip.AddrPortFrom(u.Addr, 53), HostNS: u.HostNS})
	}
	return out
}

// userNdots reports whether the container's ndots option came from the
// user (the host file or --dns-option).
func (c *Container) userNdots() bool {
	host, err := c.e.lab.etc.Read("node-"+NodeHost, "resolv.conf")
	if err != nil {
		return false
	}
	return etcfiles.ResolvConf(etcfiles.ResolvOptions{Release: c.e.opts.Release, Host: host, Resolver: etcfiles.Internal,
		DNS: c.opts.DNS, DNSSearch: c.opts.DNSSearch, DNSOptions: c.opts.DNSOptions}).UserNdots
}

// dialUpstream dials an upstream server from the host's namespace or the
// container's, as Docker's resolver does (moby/moby libnetwork/resolver.go
// dialExtDNS, v28.5.2).
func (c *Container) dialUpstream(ctx context.Context, hostNS bool, network, address string) (net.Conn, error) {
	node := c.Node()
	if hostNS {
		node = c.e.host
	}
	if node == nil {
		return nil, fmt.Errorf("dialing %s: %w", address, ErrNotRunning)
	}
	var conn net.Conn
	err := node.ns.Do(func() (err error) {
		conn, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return conn, err
}

// sandbox is a container's view of the names of its networks, which its
// resolver answers from.
type sandbox struct{ c *Container }

// nets are the user-defined networks the container is on.
func (s sandbox) nets() []*Network {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	var out []*Network
	for _, ep := range s.c.endpoints {
		if !ep.net.Default {
			out = append(out, ep.net)
		}
	}
	return out
}

func (s sandbox) Networks() []string {
	var out []string
	for _, n := range s.nets() {
		out = append(out, n.Name)
	}
	return out
}

// each calls fn with every running container's endpoint on the
// container's user-defined networks (network "" for all of them), and its
// DNS names there.
func (s sandbox) each(network string, fn func(ep *endpoint, dnsNames []string)) {
	nets := s.nets()
	e := s.c.e
	e.mu.Lock()
	ctrs := slices.Clone(e.containers)
	e.mu.Unlock()
	for _, x := range ctrs {
		x.mu.Lock()
		eps := slices.Clone(x.endpoints)
		running := x.state == stateRunning
		x.mu.Unlock()
		if !running {
			continue
		}
		for _, ep := range eps {
			if !slices.Contains(nets, ep.net) || (network != "" && ep.net.Name != network) {
				continue
			}
			fn(ep, x.DNSNames(ep.net.Name))
		}
	}
}

// Lookup answers from the first of the container's networks, in join
// order, that has the name (moby/moby libnetwork/sandbox.go ResolveName,
// v28.5.2).
func (s sandbox) Lookup(name, network string) (v4, v6 []netip.Addr, known bool) {
	for _, n := range s.nets() {
		if network != "" && n.Name != network {
			continue
		}
		s.each(n.Name, func(ep *endpoint, dnsNames []string) {
			for _, dn := range dnsNames {
				if strings.EqualFold(dn, name) {
					known = true
					if ep.addr.Is4() {
						v4 = append(v4, ep.addr)
					} else {
						v6 = append(v6, ep.addr)
					}
					return
				}
			}
		})
		if known {
			return v4, v6, true
		}
	}
	return nil, nil, false
}

func (s sandbox) Reverse(a netip.Addr) (name string, ok bool) {
	s.each("", func(ep *endpoint, dnsNames []string) {
		if !ok && ep.addr == a && len(dnsNames) > 0 {
			name, ok = dnsNames[0]+"."+ep.net.Name, true
		}
	})
	return name, ok
}

func (s sandbox) ExternalAccess() bool {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for _, ep := range s.c.endpoints {
		if !ep.net.Internal {
			return true
		}
	}
	return false
}

// binds returns the container's /etc files as its commands bind them.
func (c *Container) binds() []initproc.Bind {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node == nil {
		return nil
	}
	return c.node.binds
}
