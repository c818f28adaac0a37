package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/labrun/labrun/netkit"
	netdriver "github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/runner/dockercli"
	"github.com/labrun/labrun/runner/images"
)

// What Compose asks of the engine, as pure functions of the project: the
// networks it creates (docker/compose v5.6.0 pkg/compose/create.go
// prepareNetworks, createNetwork) and the containers of each service
// (getCreateConfigs, defaultNetworkSettings, createEndpointSettings,
// getAliases), with their labels.

// netSpec is one network of the project as the engine knows it.
type netSpec struct {
	key, name string
	// external: Compose neither creates nor removes it; it must exist.
	external bool
	opts     netkit.NetworkOptions
	// driverErr is the engine's refusal of an unknown driver, which
	// comes when the network is created.
	driverErr string
}

// networksOf lists the project's networks in the order Compose plans
// them (by key), each with Compose's labels.
func networksOf(p *types.Project) ([]netSpec, error) {
	var keys []string
	for k := range p.Networks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []netSpec
	for _, k := range keys {
		n := p.Networks[k]
		s := netSpec{key: k, name: n.Name, external: bool(n.External)}
		if s.external {
			out = append(out, s)
			continue
		}
		drv, ok := netdriver.Parse(n.Driver)
		if !ok {
			s.driverErr = fmt.Sprintf("plugin %q not found", n.Driver)
		}
		o := netkit.NetworkOptions{Name: n.Name, Driver: drv, Internal: n.Internal, Options: maps.Clone(map[string]string(n.DriverOpts)),
			NullIPAMOptions: true}
		o.IPv6 = n.EnableIPv6 != nil && *n.EnableIPv6
		for _, pool := range n.Ipam.Config {
			if err := ipamPool(&o, pool); err != nil {
				return nil, err
			}
		}
		hash, err := hashOf(n)
		if err != nil {
			return nil, err
		}
		o.Labels = map[string]string{}
		maps.Copy(o.Labels, n.Labels)
		maps.Copy(o.Labels, map[string]string{labelNetwork: k, labelProject: p.Name, labelVersion: Version, labelHash: hash})
		s.opts = o
		out = append(out, s)
	}
	return out, nil
}

// ipamPool sets one ipam.config entry on o: an IPv4 or an IPv6 subnet,
// with its range and gateway, parsed as Compose parses them
// (parseIPAMPool).
func ipamPool(o *netkit.NetworkOptions, pool *types.IPAMPool) error {
	var subnet, ipRange netip.Prefix
	var gw netip.Addr
	var err error
	if pool.Subnet != "" {
		if subnet, err = netip.ParsePrefix(pool.Subnet); err != nil {
			return fmt.Errorf("invalid subnet: %w", err)
		}
	}
	if pool.IPRange != "" {
		if ipRange, err = netip.ParsePrefix(pool.IPRange); err != nil {
			return fmt.Errorf("invalid ip-range: %w", err)
		}
	}
	if pool.Gateway != "" {
		if gw, err = netip.ParseAddr(pool.Gateway); err != nil {
			return fmt.Errorf("invalid gateway address: %w", err)
		}
	}
	if subnet.Addr().Is6() {
		o.IPAM6.Subnet, o.IPAM6.IPRange, o.IPAM6.Gateway = subnet, ipRange, gw
		return nil
	}
	o.Subnet, o.IPRange, o.Gateway = subnet, ipRange, gw
	return nil
}

// hashOf is a config-hash label's value: the SHA-256 of v's JSON, as
// Compose hashes a service or a network to see whether it changed
// (pkg/compose/hash.go; labrun's bytes differ, its use is the same).
func hashOf(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// serviceHash is a service's config-hash: what makes Compose recreate its
// containers, without what does not (the build, the scale, the
// dependencies, as trimServiceHashFields leaves out).
func serviceHash(s types.ServiceConfig) (string, error) {
	s.Build, s.PullPolicy, s.Scale, s.DependsOn, s.Profiles = nil, "", nil, nil, nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	return hashOf(s)
}

// ctrSpec is one container of a service as the engine creates it.
type ctrSpec struct {
	name, service string
	number        int
	spec          dockercli.ContainerSpec
	// connect are the networks after the first, in priority order.
	connect []connectSpec
	hash    string
}

// connectSpec is one more network of a container.
type connectSpec struct {
	network string
	opts    netkit.ConnectOptions
}

// containerName is a service's n-th container's name:
// `<project>-<service>-<n>`, or container_name's.
func containerName(project string, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return project + "-" + s.Name + "-" + strconv.Itoa(n)
}

// pullError is the engine's answer when Compose pulls an image labrun does
// not have: it has no registry, and Docker's answer for a repository that
// does not exist is this (docker run's, runner/dockercli).
func pullError(image string) string {
	repo, _, _ := strings.Cut(image, ":")
	return fmt.Sprintf("pull access denied for %s, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", repo)
}

// imageName is the image a service runs, or builds: image:, else
// `<project>-<service>` (Compose's GetImageNameOrDefault).
func imageName(project string, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return project + "-" + s.Name
}

// containerOf is the n-th container of service s. byService resolves
// network_mode service:NAME to the ID of that service's first container.
func containerOf(p *types.Project, s types.ServiceConfig, n int, byService func(string) (string, error)) (ctrSpec, error) {
	name := containerName(p.Name, s, n)
	c := ctrSpec{name: name, service: s.Name, number: n}
	im, ok := images.Lookup(s.Image)
	if !ok {
		return c, fmt.Errorf("Error response from daemon: %s", pullError(s.Image))
	}
	o := netkit.RunOptions{
		Name: name, Hostname: s.Hostname, Domainname: s.DomainName, Image: s.Image,
		Program: im.Main(s.StdinOpen, s.Tty), Comm: im.Comm, Command: strings.Trim(im.Command, `"`), Expose: im.Expose,
		DNSSearch: s.DNSSearch, DNSOptions: s.DNSOpts,
	}
	argv := append(append([]string{}, s.Entrypoint...), s.Command...)
	if len(argv) > 0 {
		o.Program, o.Comm, o.Command = "", filepath.Base(argv[0]), strings.Join(argv, " ")
		c.spec.Cmd = argv
	}
	for k, v := range s.Environment {
		if v != nil {
			o.Env = append(o.Env, k+"="+*v)
		}
	}
	sort.Strings(o.Env)
	c.spec.Env, c.spec.Tty, c.spec.OpenStdin = o.Env, s.Tty, s.StdinOpen
	o.ExtraHosts = s.ExtraHosts.AsList(":")
	sort.Strings(o.ExtraHosts)
	for _, d := range s.DNS {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return c, fmt.Errorf("invalid DNS address: %w", err)
		}
		o.DNS = append(o.DNS, a)
	}
	for _, pc := range s.Ports {
		bs, err := ports.ParsePublish(publishSpec(pc))
		if err != nil {
			return c, err
		}
		o.Publish = append(o.Publish, bs...)
	}
	for _, e := range s.Expose {
		ps, err := ports.ParseExpose(e)
		if err != nil {
			return c, err
		}
		o.ExtraExpose = append(o.ExtraExpose, ps...)
	}
	var err error
	if err = c.network(p, s, &o, byService); err != nil {
		return c, err
	}
	if c.hash, err = serviceHash(s); err != nil {
		return c, err
	}
	o.Labels = labelsOf(s, n, c.hash, o.Image)
	c.spec.RunOptions = o
	return c, nil
}

// publishSpec writes a ports: entry as docker run's -p value.
func publishSpec(pc types.ServicePortConfig) string {
	spec := strconv.Itoa(int(pc.Target))
	if pc.Published != "" || pc.HostIP != "" {
		spec = pc.Published + ":" + spec
	}
	if pc.HostIP != "" {
		ip := pc.HostIP
		if strings.Contains(ip, ":") && !strings.HasPrefix(ip, "[") {
			ip = "[" + ip + "]"
		}
		spec = ip + ":" + spec
	}
	if pc.Protocol != "" {
		spec += "/" + pc.Protocol
	}
	return spec
}

// network sets the container's network mode, its first network's
// endpoint (aliases, addresses, MAC) and the networks it joins after.
func (c *ctrSpec) network(p *types.Project, s types.ServiceConfig, o *netkit.RunOptions, byService func(string) (string, error)) error {
	switch mode := s.NetworkMode; {
	case strings.HasPrefix(mode, "service:"):
		id, err := byService(strings.TrimPrefix(mode, "service:"))
		if err != nil {
			return err
		}
		o.Network = netkit.Mode{Kind: netkit.ModeContainer, Container: id}
		return nil
	case mode != "":
		m, err := netkit.ParseMode(mode)
		o.Network = m
		return err
	case len(p.Networks) == 0:
		o.Network = netkit.Mode{Kind: netkit.ModeNone}
		return nil
	}
	keys := s.NetworksByPriority()
	if len(keys) == 0 {
		keys = []string{"default"}
	}
	for i, key := range keys {
		cfg := s.Networks[key]
		aliases := []string{c.name, s.Name}
		var ip, ip6 netip.Addr
		mac := ""
		// A network the service configures, even as {}, gets an
		// IPAMConfig (createEndpointSettings's parseEndpointIPAM).
		ipamCfg := cfg != nil
		if cfg != nil {
			aliases = append(aliases, cfg.Aliases...)
			var err error
			if cfg.Ipv4Address != "" {
				if ip, err = netip.ParseAddr(cfg.Ipv4Address); err != nil {
					return fmt.Errorf("invalid IPv4 address: %w", err)
				}
			}
			if cfg.Ipv6Address != "" {
				if ip6, err = netip.ParseAddr(cfg.Ipv6Address); err != nil {
					return fmt.Errorf("invalid IPv6 address: %w", err)
				}
			}
			mac = cfg.MacAddress
		}
		name := p.Networks[key].Name
		if i > 0 {
			c.connect = append(c.connect, connectSpec{network: name,
				opts: netkit.ConnectOptions{IP: ip, IP6: ip6, Aliases: aliases, Created: true, IPAMConfig: ipamCfg}})
			continue
		}
		if s.MacAddress != "" && mac != "" && mac != s.MacAddress {
			return fmt.Errorf("the service-level mac_address should have the same value as network %s", key)
		}
		if mac == "" {
			mac = s.MacAddress
		}
		if mac != "" {
			hw, err := net.ParseMAC(mac)
			if err != nil {
				return fmt.Errorf("invalid MAC address: %w", err)
			}
			o.MacAddress = hw
		}
		o.Network = netkit.Mode{Kind: netkit.ModeBridge, Network: name}
		o.IP, o.IP6, o.Aliases, o.IPAMConfig = ip, ip6, aliases, ipamCfg
	}
	return nil
}

// labelsOf are a service's container's labels: the service's own, then
// Compose's (getCreateConfigs).
func labelsOf(s types.ServiceConfig, n int, hash, image string) map[string]string {
	l := map[string]string{}
	maps.Copy(l, s.Labels)
	maps.Copy(l, s.CustomLabels)
	var deps []string
	for name, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	l[labelHash], l[labelNumber], l[labelDependsOn] = hash, strconv.Itoa(n), strings.Join(deps, ",")
	l[labelImage] = "sha256:" + names.StableHex("image:"+image, 64)
	return l
}

// startOrder lists the project's services so that each comes after those
// it depends on (depends_on, links, network_mode service:), ties by
// name, as Compose visits them.
func startOrder(p *types.Project) []string {
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	done := map[string]bool{}
	var out []string
	var visit func(n string, seen map[string]bool)
	visit = func(n string, seen map[string]bool) {
		if done[n] || seen[n] {
			return
		}
		seen[n] = true
		deps := p.Services[n].GetDependencies()
		sort.Strings(deps)
		for _, d := range deps {
			if _, ok := p.Services[d]; ok {
				visit(d, seen)
			}
		}
		done[n] = true
		out = append(out, n)
	}
	for _, n := range names {
		visit(n, map[string]bool{})
	}
	return out
}
