package netkit

import (
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/ports"

	"github.com/labrun/labrun/netkit/shapes"
)

// The engine API's objects are package shapes' types, with the fields of
// every API version; MarshalJSON writes those of the object's version.
type (
	ContainerJSON      = shapes.ContainerJSON
	ContainerState     = shapes.ContainerState
	HostConfig         = shapes.HostConfig
	ContainerConfig    = shapes.ContainerConfig
	PortBindingJSON    = shapes.PortBindingJSON
	NetworkSettings    = shapes.NetworkSettings
	EndpointSettings   = shapes.EndpointSettings
	EndpointIPAMConfig = shapes.EndpointIPAMConfig
	NetworkJSON        = shapes.NetworkJSON
	IPAMJSON           = shapes.IPAMJSON
	IPAMConfig         = shapes.IPAMConfig
	NetworkContainer   = shapes.NetworkContainer
	NetworkStatus      = shapes.NetworkStatus
	NetworkStatusIPAM  = shapes.NetworkStatusIPAM
	SubnetStatus       = shapes.SubnetStatus
)

func timeJSON(t time.Time) string { return shapes.Time(t) }

// Inspect returns the container as docker inspect shows it.
func (c *Container) Inspect() ContainerJSON { return c.InspectAPI("") }

// InspectAPI returns the container as the engine answers a client of API
// version version ("1.50"; "" the engine's own; see inspect_shapes.go).
func (c *Container) InspectAPI(version string) ContainerJSON {
	client := c.e.opts.ClientAPI(version)
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.opts
	st := ContainerState{
		Status: c.statusLocked(), Running: c.state == stateRunning, Pid: c.pid, ExitCode: c.exitCode,
		StartedAt: timeJSON(c.startedAt), FinishedAt: timeJSON(c.finishedAt),
	}
	argv := strings.Fields(strings.Trim(o.Command, `"`))
	if len(argv) == 0 {
		argv = []string{"sh"}
	}
	cmd := argv[0]
	imageID := o.ImageID
	if imageID == "" {
		imageID = imageDigest(o.Image)
	}
	j := ContainerJSON{
		Id: c.ID, Created: timeJSON(c.Created), Path: cmd, Args: append([]string{}, argv[1:]...), State: st,
		Image: "sha256:" + imageID, Name: "/" + c.Name, Driver: "overlay2", Platform: "linux",
		HostConfig: HostConfig{NetworkMode: o.Network.String(), PortBindings: map[string][]PortBindingJSON{},
			AutoRemove: o.Remove, PublishAllPorts: o.PublishAll, Dns: []string{},
			DnsOptions: append([]string{}, o.DNSOptions...), DnsSearch: append([]string{}, o.DNSSearch...),
			ExtraHosts: o.ExtraHosts, Links: c.links(false)},
		Config: ContainerConfig{Hostname: c.configHostname(), Domainname: o.Domainname, Cmd: argv, Image: o.Image, Labels: maps.Clone(o.Labels)},
	}
	for _, a := range o.DNS {
		j.HostConfig.Dns = append(j.HostConfig.Dns, a.String())
	}
	for _, b := range o.Publish {
		k := b.Container.String()
		hp := ""
		if b.HostPort != 0 {
			hp = strconv.Itoa(int(b.HostPort))
			if b.HostPortEnd != 0 && b.HostPortEnd != b.HostPort {
				hp += "-" + strconv.Itoa(int(b.HostPortEnd))
			}
		}
		hip := ""
		if b.HostIP.IsValid() {
			hip = b.HostIP.String()
		}
		j.HostConfig.PortBindings[k] = append(j.HostConfig.PortBindings[k], PortBindingJSON{HostIp: hip, HostPort: hp})
	}
	exposed := exposedPorts(o)
	if len(exposed) > 0 {
		j.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range exposed {
			j.Config.ExposedPorts[p.String()] = struct{}{}
		}
	}
	api := c.e.opts.API()
	j.API, j.Client = api, client
	ns := NetworkSettings{Networks: map[string]*EndpointSettings{}, Ports: map[string][]PortBindingJSON{}, API: api}
	r := c.e.opts.Release
	if (c.state == stateRunning || (r.KeepSandbox() && c.sandboxed)) && o.Network.Kind != ModeContainer {
		ns.SandboxID = sandboxID(c.ID)
		ns.SandboxKey = "/var/run/docker/netns/" + ns.SandboxID[:12]
		if o.Network.Kind == ModeHost {
			ns.SandboxKey = "/var/run/docker/netns/default"
		}
	}
	switch o.Network.Kind {
	case ModeHost, ModeNone:
		name := o.Network.String()
		ns.Networks[name] = &EndpointSettings{NetworkID: pseudoNetworkID(name), API: api}
		if c.state == stateRunning {
			ns.Networks[name].EndpointID = names.StableHex("endpoint:"+name+":"+c.ID, 64)
			if o.MacAddress != nil && r.EndpointMacAddress() {
				ns.Networks[name].MacAddress = o.MacAddress.String()
			}
		}
		ns.Ports = map[string][]PortBindingJSON{}
	case ModeContainer:
		ns.Ports = map[string][]PortBindingJSON{}
	case ModeBridge:
		if c.state == stateRunning && (!c.onInternal() || r.InternalExposed()) && c.veths() > 0 {
			// Exposed ports show on bridge networks, on internal ones
			// only from 29 (before, Docker gave their endpoints no port
			// settings), and not once the container left every network
			// (no endpoint has them).
			for _, p := range exposed {
				ns.Ports[p.String()] = nil
			}
			for _, b := range c.bindings {
				k := b.Container.String()
				ns.Ports[k] = append(ns.Ports[k], PortBindingJSON{HostIp: b.HostIP.String(), HostPort: strconv.Itoa(int(b.HostPort))})
			}
		}
		for i, ep := range c.endpoints {
			es := &EndpointSettings{
				MacAddress: ep.mac.String(), NetworkID: ep.net.ID, EndpointID: ep.ID,
				Gateway: ep.net.Gateway.String(), IPAddress: ep.addr.String(), IPPrefixLen: ep.net.Subnet.Bits(),
				API: api,
			}
			if ep.net.DefaultGW.IsValid() {
				es.Gateway = ep.net.DefaultGW.String()
			} else if ep.child != nil {
				es.Gateway = ep.child.Gateway()
			}
			if ep.net.Internal && !r.InternalGateway() {
				es.Gateway = ""
			}
			if ep.reqIP.IsValid() || ep.connected || ep.ipamCfg {
				es.IPAMConfig = &EndpointIPAMConfig{}
			}
			if ep.reqIP.IsValid() {
				es.IPAMConfig.IPv4Address = ep.reqIP.String()
			}
			ep.settings6(es, ep.net.Internal && !r.InternalGateway())
			es.Aliases = append(es.Aliases, ep.aliases...)
			if ep.connected {
				// docker network connect sends an IPAMConfig, Aliases and
				// DriverOpts, empty or not (docker/cli cli/command/network/
				// connect.go runConnect, v28.2.2); the daemon keeps them.
				es.Aliases, es.DriverOpts = append([]string{}, ep.aliases...), map[string]string{}
			} else {
				es.Links = c.links(true)
			}
			c.nameSettings(es, ep.net, api)
			if !ep.net.Default && api >= shapes.AliasShortID && client < shapes.AliasShortID {
				es.Aliases = names.Dedup(append(es.Aliases, c.ID[:12], j.Config.Hostname))
			}
			ns.Networks[ep.net.Name] = es
			if i == 0 && ep.net.Default {
				ns.EndpointID, ns.Gateway, ns.IPAddress = es.EndpointID, es.Gateway, es.IPAddress
				ns.IPPrefixLen, ns.MacAddress = es.IPPrefixLen, es.MacAddress
				ns.GlobalIPv6Address, ns.GlobalIPv6PrefixLen, ns.IPv6Gateway = es.GlobalIPv6Address, es.GlobalIPv6PrefixLen, es.IPv6Gateway
			}
		}
		if len(c.endpoints) == 0 && c.state != stateRunning && !(c.lastStart == failedInSandbox && r.FailedStartNetworks()) && !c.e.bridgeNone(o.Network.String()) {
			// The request, and what a start left of its endpoint: the
			// network's ID once the endpoint existed, and the names
			// (moby/moby daemon/container_operations.go connectToNetwork
			// and cleanOperationalData, v28.5.2). A network that does
			// not exist leaves the request alone.
			name := o.Network.String()
			es := &EndpointSettings{API: api, Aliases: append([]string(nil), o.Aliases...), Links: c.links(true)}
			if o.IP.IsValid() || o.IPAMConfig {
				es.IPAMConfig = &EndpointIPAMConfig{}
			}
			if o.IP.IsValid() {
				es.IPAMConfig.IPv4Address = o.IP.String()
			}
			(&endpoint{reqIP6: o.IP6}).settings6(es, true)
			if n, err := c.e.networkByNameNoLock(name); err == nil {
				if c.lastStart != failedBeforeSandbox {
					es.NetworkID = n.ID
				}
				c.nameSettings(es, n, api)
			}
			ns.Networks[name] = es
		}
		if b := c.e.opts.Bridge; b != "" && !c.e.bridgeNone(o.Network.String()) && o.Network.String() == "bridge" {
			// The deprecated NetworkSettings.Bridge is dockerd's -b, on
			// the default network's containers (moby/moby
			// daemon/container_operations.go updateEndpointNetworkSettings,
			// v28.5.2).
			ns.Bridge = b
		}
		if c.e.bridgeNone(o.Network.String()) {
			// -b none: the container keeps its request for the default
			// bridge, which names no network.
			ns.Networks["bridge"] = &EndpointSettings{API: api}
		}
	}
	j.NetworkSettings = ns
	if o.MacAddress != nil && r.ConfigMacAddress(client, o.Network.Kind == ModeBridge, ns.Networks[o.Network.String()] != nil) {
		j.Config.MacAddress = o.MacAddress.String()
	}
	return j
}

// nameSettings sets the names of the container on network n in es, whose
// Aliases are the requested ones: none on the default bridge, the short
// ID as an alias after them up to API 1.43, DNSNames after (see
// DNSNames). Caller holds c.mu.
func (c *Container) nameSettings(es *EndpointSettings, n *Network, api int) {
	switch {
	case n.Default:
	case api <= apiShortIDAlias:
		// Before DNSNames (API 1.44), the short ID and the hostname
		// were aliases.
		es.Aliases = names.LegacyAliases(es.Aliases, c.Name, c.ID, c.configHostname())
	default:
		es.DNSNames = names.DNSNames(c.Name, es.Aliases, c.ID, c.configHostname())
	}
}

func (e *Engine) networkByNameNoLock(name string) (*Network, error) {
	for _, n := range e.Networks() {
		if n.Name == name {
			return n, nil
		}
	}
	return nil, ErrNotFound
}

// exposedPorts lists image EXPOSE, --expose and -p container ports, once each.
func exposedPorts(o RunOptions) []ports.Port {
	return ports.Exposed(o.Expose, o.ExtraExpose, o.Publish)
}

// ExposedPorts lists the container's exposed ports (EXPOSE, --expose, -p).
func (c *Container) ExposedPorts() []ports.Port { return exposedPorts(c.opts) }

// Inspect returns the network as docker network inspect shows it.
func (n *Network) Inspect(e *Engine) NetworkJSON { return n.InspectAPI(e, "") }

// InspectAPI is Inspect for a client of API version version.
func (n *Network) InspectAPI(e *Engine, version string) NetworkJSON {
	client := e.opts.ClientAPI(version)
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.opts.Release
	j := NetworkJSON{
		Name: n.Name, Id: n.ID, Created: timeJSON(n.Created), Scope: "local", Driver: n.Driver.String(),
		EnableIPv4: true, API: r.API(), Client: client,
		IPAM:     IPAMJSON{Driver: "default", Config: []IPAMConfig{{Subnet: n.Subnet.String(), Gateway: n.Gateway.String()}}},
		Internal: n.Internal, Containers: map[string]NetworkContainer{}, Options: map[string]string{}, Labels: map[string]string{},
	}
	maps.Copy(j.Labels, n.Labels)
	if n.IPRange.IsValid() {
		j.IPAM.Config[0].IPRange = n.IPRange.String()
	}
	if !n.Gateway.IsValid() {
		j.IPAM.Config[0].Gateway = "" // macvlan and ipvlan from 29 (driver.SkipGateway)
	}
	if n.Default && (n.createdBridge && r.BridgeGatewayHidden() || n.poolFromFixedCIDR && !r.SubnetGateway()) {
		j.IPAM.Config[0].Gateway = ""
	}
	if n.Default && n.DefaultGW.IsValid() {
		// The daemon passes --default-gateway to IPAM as an auxiliary
		// address (moby/moby daemon/daemon_unix.go
		// getDefaultBridgeIPAMConf, v28.5.2).
		j.IPAM.Config[0].AuxiliaryAddresses = map[string]string{"DefaultGatewayIPv4": n.DefaultGW.String()}
	}
	if n.UserSubnet && !n.UserGateway && !r.SubnetGateway() {
		// With --subnet, IPAM.Config is the request (libnetwork's
		// IpamConfig), which has no gateway unless --gateway gave one;
		// without, it is what IPAM allocated (IpamInfo). From 29, the
		// request's missing gateway is IPAM's.
		j.IPAM.Config[0].Gateway = ""
	}
	if r.API() >= apiV29 {
		inUse, avail := n.ipamStatus()
		j.Status = &NetworkStatus{IPAM: NetworkStatusIPAM{Subnets: map[string]SubnetStatus{
			n.Subnet.String(): {IPsInUse: uint64(inUse), DynamicIPsAvailable: uint64(avail)},
		}}}
	}
	if !n.Default && !n.nullIPAMOpt {
		j.IPAM.Options = map[string]string{}
	}
	if n.Default {
		hb := "0.0.0.0"
		if n.HostBinding.IsValid() {
			hb = n.HostBinding.String()
		}
		j.Options = map[string]string{
			"com.docker.network.bridge.default_bridge":       "true",
			"com.docker.network.bridge.enable_icc":           strconv.FormatBool(n.ICC),
			"com.docker.network.bridge.enable_ip_masquerade": strconv.FormatBool(n.Masq),
			"com.docker.network.bridge.host_binding_ipv4":    hb,
			"com.docker.network.bridge.name":                 n.Bridge,
			"com.docker.network.driver.mtu":                  strconv.Itoa(e.mtu()),
		}
	} else {
		for k, v := range n.Options {
			j.Options[k] = v
		}
	}
	for id, ep := range n.endpoints {
		name := ""
		for _, c := range e.containers {
			if c.ID == id {
				name = c.Name
			}
		}
		j.Containers[id] = NetworkContainer{
			Name: name, EndpointID: ep.ID, MacAddress: ep.mac.String(),
			IPv4Address: netip.PrefixFrom(ep.addr, n.Subnet.Bits()).String(),
		}
	}
	n.inspect6(&j, e)
	return j
}

// HostNetworks returns docker network ls's pseudo-networks "host" and
// "none", which exist on every Docker host.
func HostNetworks() []NetworkJSON {
	return []NetworkJSON{shapes.PseudoNetwork("host", pseudoNetworkID("host")), shapes.PseudoNetwork("none", pseudoNetworkID("none"))}
}

func pseudoNetworkID(name string) string { return names.StableHex("network:"+name, 64) }
func sandboxID(id string) string         { return names.StableHex("sandbox:"+id, 64) }
func imageDigest(image string) string    { return names.StableHex("image:"+image, 64) }
