package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/nft"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/resolver"
)

// ResolverAddr is the embedded resolver's address in every container.
var ResolverAddr = netip.MustParseAddr("127.0.0.11")

// ResolverOptions describe a container's embedded resolver.
type ResolverOptions struct {
	// NFTables: the engine's firewall back end is nftables (table ip
	// docker-dns), not iptables (chains DOCKER_OUTPUT and
	// DOCKER_POSTROUTING).
	NFTables bool
	View     resolver.Sandbox
	Files    Files
	// Dial dials an upstream from the host's namespace or the
	// container's.
	Dial    func(ctx context.Context, hostNS bool, network, address string) (net.Conn, error)
	Release release.Release
	Logf    func(format string, args ...any)
}

// StartResolver starts a container's embedded DNS server in its namespace
// ns, on 127.0.0.11 with a UDP and a TCP port of its own, and the NAT
// rules that send port 53 there, as the engine's back end writes them.
//
// Equivalent to: iptables -t nat -I DOCKER_OUTPUT -d 127.0.0.11 -p udp
// --dport 53 -j DNAT --to-destination 127.0.0.11:PORT (and the rest of
// firewall.ResolverNAT) in the container's namespace
func StartResolver(ns *netns.NS, o ResolverOptions) (*resolver.Server, error) {
	udp, tcp, err := Listen(ns, netip.AddrPortFrom(ResolverAddr, 0))
	if err != nil {
		return nil, fmt.Errorf("starting the embedded DNS server: %w", err)
	}
	srv, err := resolver.Serve(udp, tcp, resolver.Config{Sandbox: o.View, Upstreams: o.Files.Upstreams(),
		Dial: o.Dial, Release: o.Release, UserNdots: o.Files.Resolv.UserNdots, Logf: o.Logf})
	if err != nil {
		return nil, fmt.Errorf("starting the embedded DNS server: %w", err)
	}
	up, tp := srv.Addrs()
	if o.NFTables {
		err = nft.NewProgrammer(ns.Fd()).Apply(nft.DNSTable(up, tp))
	} else {
		err = firewall.NewProgrammer(ns, firewall.Options{Logf: o.Logf}).Apply(firewall.ResolverNAT(up, tp))
	}
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("programming the embedded DNS server's rules: %w", err)
	}
	return srv, nil
}

// Listen opens a DNS server's two sockets, UDP and TCP, on addr inside
// namespace ns (port 0: each its own free port).
func Listen(ns *netns.NS, addr netip.AddrPort) (udp net.PacketConn, tcp net.Listener, err error) {
	err = ns.Do(func() (err error) {
		if udp, err = net.ListenPacket("udp4", addr.String()); err != nil {
			return err
		}
		if tcp, err = net.Listen("tcp4", addr.String()); err != nil {
			udp.Close()
		}
		return err
	})
	return udp, tcp, err
}
