package sandbox

import (
	"bytes"
	"crypto/sha256"
	"net/netip"

	"github.com/labrun/labrun/netkit/etcdir"
	"github.com/labrun/labrun/netkit/etcfiles"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/resolver"
)

// The /etc files labrun binds over the machine's in a node's or a
// container's commands, in the order they are bound.
const (
	ResolvConf = "/etc/resolv.conf"
	Hosts      = "/etc/hosts"
	Hostname   = "/etc/hostname"
)

var targets = []string{ResolvConf, Hosts, Hostname}

// FilesOptions describe a container's files.
type FilesOptions struct {
	Release release.Release
	// HostResolv and HostHosts are the host's /etc/resolv.conf and
	// /etc/hosts.
	HostResolv, HostHosts []byte
	// HostNetwork is --net=host.
	HostNetwork bool
	// Joining: the container is joining a user-defined network whose
	// endpoint Own does not hold yet (its resolver starts meanwhile).
	Joining bool
	// Own are the container's endpoints, in join order.
	Own []Endpoint
	// DNS, DNSSearch and DNSOptions are --dns, --dns-search and
	// --dns-option.
	DNS        []netip.Addr
	DNSSearch  []string
	DNSOptions []string
	// Extra are the --add-host lines then the links' (etcfiles).
	Extra                []etcfiles.Record
	Hostname, Domainname string
}

// Files are a container's files and what its resolver needs of them.
type Files struct {
	Text   map[string][]byte // by target
	Resolv etcfiles.Resolv
	// Internal: the resolv.conf names the embedded resolver, which must
	// run (a user-defined network, where the release starts one).
	Internal bool
}

// Build writes a container's files as its release does.
func Build(o FilesOptions) Files {
	mode := etcfiles.Legacy
	if o.Joining {
		mode = etcfiles.Internal
	}
	var own []netip.Addr
	for _, ep := range o.Own {
		own = append(own, ep.Addr)
		if ep.Addr6.IsValid() {
			own = append(own, ep.Addr6) // after the IPv4 address, as 28.5.2 and 29.8.1 list them
		}
		if !ep.Default {
			mode = etcfiles.Internal
		}
	}
	if o.HostNetwork {
		mode = etcfiles.HostNetwork
	}
	rc := etcfiles.ResolvConf(etcfiles.ResolvOptions{Release: o.Release, Host: o.HostResolv, Resolver: mode,
		DNS: o.DNS, DNSSearch: o.DNSSearch, DNSOptions: o.DNSOptions})
	ho := etcfiles.HostsOptions{Release: o.Release, Extra: o.Extra, Own: own, Hostname: o.Hostname,
		Domainname: o.Domainname, HostNetwork: o.HostNetwork, Host: o.HostHosts}
	return Files{
		Text:     map[string][]byte{ResolvConf: rc.File, Hosts: etcfiles.Hosts(ho), Hostname: etcfiles.Hostname(o.Hostname)},
		Resolv:   rc,
		Internal: mode == etcfiles.Internal && !rc.NoResolver,
	}
}

// Upstreams are the servers the container's resolver forwards to.
func (f Files) Upstreams() []resolver.Upstream {
	var out []resolver.Upstream
	for _, u := range f.Resolv.Upstreams {
		out = append(out, resolver.Upstream{Addr: netip.AddrPortFrom(u.Addr, 53), HostNS: u.HostNS})
	}
	return out
}

// Sum is what a resolv.conf written by labrun sums to: one the user
// changed since sums otherwise, and is left alone (Docker's
// resolv.conf.hash).
type Sum [32]byte

// Write writes owner's files (by target) in d and returns their binds, in
// a fixed order, and the resolv.conf's sum. A resolv.conf the user changed
// since labrun wrote it (last, zero for none yet) is kept, as Docker keeps
// it across restarts.
func Write(d *etcdir.Dir, owner string, text map[string][]byte, last Sum) ([]initproc.Bind, Sum, error) {
	var binds []initproc.Bind
	sum := sha256.Sum256(text[ResolvConf])
	cur, err := d.Read(owner, "resolv.conf")
	keep := err == nil && last != (Sum{}) && sha256.Sum256(cur) != last
	if keep {
		sum = last
	}
	for _, target := range targets {
		b, ok := text[target]
		if !ok {
			continue
		}
		if target == ResolvConf && keep {
			binds = append(binds, initproc.Bind{Source: d.File(owner, "resolv.conf"), Target: target})
			continue
		}
		p, err := d.Write(owner, target[len("/etc/"):], b)
		if err != nil {
			return nil, Sum{}, err
		}
		binds = append(binds, initproc.Bind{Source: p, Target: target})
	}
	return binds, sum, nil
}

// Refresh rewrites owner's hosts and, unless the user changed it since
// labrun wrote it (last), its resolv.conf, after the container joined or
// left a network (moby/moby libnetwork/sandbox_dns_unix.go rebuildDNS and
// updateHostsFile, v28.5.2). It returns the resolv.conf's sum.
func Refresh(d *etcdir.Dir, owner string, text map[string][]byte, last Sum) (Sum, error) {
	if _, err := d.Write(owner, "hosts", text[Hosts]); err != nil {
		return last, err
	}
	cur, err := d.Read(owner, "resolv.conf")
	if err != nil {
		return last, err
	}
	if sha256.Sum256(cur) != last || bytes.Equal(cur, text[ResolvConf]) {
		return last, nil
	}
	if _, err := d.Write(owner, "resolv.conf", text[ResolvConf]); err != nil {
		return last, err
	}
	return sha256.Sum256(text[ResolvConf]), nil
}
