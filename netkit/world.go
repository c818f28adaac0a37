package netkit

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/resolver"
	"github.com/labrun/labrun/netkit/sandbox"
)

// This file is the world's name service: the files each world node sees in
// /etc (its hostname, a hosts file, and a resolv.conf naming the lab's
// resolver), so that nothing a node or container resolves reaches the
// machine's resolvers.

// LabResolver is the lab's name server, on the internet node, as a
// provider's resolver would be: the host's resolv.conf names it, and so the
// resolv.conf of every container (Docker's ExtServers).
var LabResolver = InternetAddr.Addr()

// LabZone are the names the lab's resolver answers; it answers NXDOMAIN
// for every other name.
var LabZone = map[string][]netip.Addr{
	"example.test":     {InternetAddr.Addr()},
	"www.example.test": {InternetAddr.Addr()},
}

// WorldResolvConf is the resolv.conf of every world node.
func WorldResolvConf() string { return "nameserver " + LabResolver.String() + "\n" }

// WorldHosts is the hosts file of world node name, as Debian writes one.
func WorldHosts(name string) string {
	return "127.0.0.1\tlocalhost\n127.0.1.1\t" + name + "\n\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
}

// worldFiles writes each world node's /etc files and binds them in its
// commands.
func (l *Lab) worldFiles() error {
	for name, n := range l.nodes {
		binds, _, err := sandbox.Write(l.etc, "node-"+name, map[string][]byte{sandbox.ResolvConf: []byte(WorldResolvConf()),
			sandbox.Hosts: []byte(WorldHosts(name)), sandbox.Hostname: []byte(name + "\n")})
		if err != nil {
			return err
		}
		n.binds = binds
	}
	return nil
}

// serveZone starts the lab's resolver on the internet node.
func (l *Lab) serveZone() (err error) {
	l.zone, err = ServeLabResolver(l.nodes[NodeInternet].ns, l.opts.Logf)
	return err
}

// ServeLabResolver starts the lab's resolver in namespace ns, which must
// have the address LabResolver: LabZone on port 53, UDP and TCP.
//
// Equivalent to: a name server on 203.0.113.10:53 in node internet
func ServeLabResolver(ns *netns.NS, logf func(string, ...any)) (*resolver.ZoneServer, error) {
	var udp net.PacketConn
	var tcp net.Listener
	addr := netip.AddrPortFrom(LabResolver, 53).String()
	err := ns.Do(func() (err error) {
		if udp, err = net.ListenPacket("udp4", addr); err != nil {
			return err
		}
		if tcp, err = net.Listen("tcp4", addr); err != nil {
			udp.Close()
		}
		return err
	})
	var z *resolver.ZoneServer
	if err == nil {
		z, err = resolver.ServeZone(udp, tcp, resolver.Zone{Records: LabZone, Logf: logf})
	}
	if err != nil {
		return nil, fmt.Errorf("starting the lab's resolver: %w", err)
	}
	return z, nil
}

// Binds returns the files bound over /etc in the node's commands (its own
// resolv.conf, hosts and hostname), for a program that starts commands in
// the node itself.
func (n *Node) Binds() []initproc.Bind { return n.binds }
