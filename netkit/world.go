package netkit

import (
	"github.com/labrun/labrun/netkit/sandbox"
	"github.com/labrun/labrun/netkit/world"
)

// This file is the lab's side of the world's name service (netkit/world):
// the files each world node sees in /etc (its hostname, a hosts file, and a
// resolv.conf naming the world's resolver), so that nothing a node or
// container resolves reaches the machine's resolvers, and the resolver.

// worldFiles writes each world node's /etc files and binds them in its
// commands.
func (l *Lab) worldFiles() error {
	for name, n := range l.nodes {
		binds, _, err := sandbox.Write(l.etc, "node-"+name, map[string][]byte{sandbox.ResolvConf: []byte(world.ResolvConf()),
			sandbox.Hosts: []byte(world.Hosts(name)), sandbox.Hostname: []byte(name + "\n")}, sandbox.Sum{})
		if err != nil {
			return err
		}
		n.SetBinds(binds)
	}
	return nil
}

// serveZone starts the world's resolver on the internet node.
func (l *Lab) serveZone() (err error) {
	l.zone, err = world.ServeResolver(l.nodes[NodeInternet].NS(), l.opts.Logf)
	return err
}
