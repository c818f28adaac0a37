package netkit

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/backend"
)

// This file is the engine's side of its firewall back end
// (netkit/firewall/backend): the settings that shape every rule, each
// network as the back ends take it, and Docker 29's forwarding check.

// firewallConfig is the engine's settings that shape every rule.
func (e *Engine) firewallConfig() firewall.Config {
	return firewall.Config{Release: e.opts.Release, NoUserlandProxy: e.opts.NoUserlandProxy,
		NoIPTables: e.opts.NoIPTables, NoIP6Tables: !e.opts.IP6TablesOn(e.opts.IP6Tables)}
}

// fwNet is network n's settings as the firewall back ends take them.
func fwNet(n *Network) firewall.Network {
	return firewall.Network{Name: n.Name, Bridge: n.Bridge, Subnet: n.Subnet, NoICC: !n.ICC, NoIPMasq: !n.Masq,
		Internal: n.Internal, HostIPv4: n.HostIPv4, HostIPv6: hostIPv6(n), Subnet6: n.IPv6.Prefix()}
}

// hostIPv6 is a network with IPv6's com.docker.network.host_ipv6: its
// IPv6 traffic leaving the host is SNATed to it instead of masqueraded
// (docs/docker.md §1.5 (d)).
func hostIPv6(n *Network) netip.Addr {
	if n.IPv6 == nil {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(n.Options["com.docker.network.host_ipv6"])
	return a
}

// NFTRuleset returns the engine's nftables tables in nft list ruleset's
// form, or "" when the engine uses iptables.
func (e *Engine) NFTRuleset() string {
	e.mu.Lock()
	fw := e.fw
	e.mu.Unlock()
	if f, ok := fw.(*backend.NFTables); ok {
		return f.Ruleset()
	}
	return ""
}

// noForwarding is Docker 29's refusal of a bridge network, with the
// nftables back end, on a host that does not forward IPv4 (moby/moby
// v2.0.0-beta.24 daemon/libnetwork/drivers/bridge/setup_ip_forwarding.go,
// checkIPv4Forwarding).
const noForwarding = "IPv4 forwarding is disabled: check your host's firewalling and set sysctl net.ipv4.ip_forward=1, " +
	"or disable this check using daemon option --ip-forward=false"

// checkForwarding refuses a new bridge network as Docker 29 with the
// nftables back end does when the host does not forward IPv4 (it checks
// each network it creates; the iptables back end turns forwarding on).
//
// Equivalent to: test "$(sysctl -n net.ipv4.ip_forward)" = 1
func (e *Engine) checkForwarding() error {
	if e.opts.NoIPForward || e.opts.FirewallBackend != "nftables" {
		return nil
	}
	v, err := e.host.NS().ReadSysctl("net/ipv4/ip_forward")
	if err != nil {
		return err
	}
	if v != "1" {
		return derr(ErrInvalid, "%s", noForwarding)
	}
	return nil
}
