package dockercli

import (
	"errors"
	"net"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/world"
	"github.com/labrun/labrun/runner/dockerhost"
)

// A world may have several Docker hosts; -H/--host and $DOCKER_HOST pick
// one (runner/dockerhost).

// defaultDaemon is the daemon the CLI reaches without -H.
const defaultDaemon = dockerhost.Default

// daemonURL is the daemon address the CLI names in its errors.
func (d *dockerCtx) daemonURL() string {
	if d.node == "" || d.host == "" {
		return defaultDaemon
	}
	if strings.Contains(d.host, "://") {
		return d.host
	}
	return "tcp://" + net.JoinHostPort(d.node, "2375")
}

// nodeName is node, or the world's first Docker host for "".
func (s *Session) nodeName(node string) string {
	if node == "" && s.Lab != nil {
		if h := s.Lab.World().DockerNodes(); len(h) > 0 {
			return h[0]
		}
	}
	return node
}

// localNode is the node whose engine the local daemon is for a command
// run with getenv: the lab shell's node ($LABRUN_NODE) when it runs an
// engine, else "" (the world's first Docker host).
func (s *Session) localNode(getenv func(string) string) string {
	if s.Lab == nil || getenv == nil {
		return ""
	}
	if wn := s.Lab.World().Node(getenv("LABRUN_NODE")); wn != nil && wn.Docker {
		return wn.Name
	}
	return ""
}

// daemonOptions parses a dockerd command line (-H NODE picks the node,
// else local) after $LABRUN_DOCKERD and the flags the world gives that
// node (nodes.NODE.dockerd).
func (s *Session) daemonOptions(args []string, local string) (netkit.DaemonOptions, error) {
	o, err := parseDockerd(args)
	if err != nil || s.Lab == nil {
		return o, err
	}
	if o.Node == "" {
		o.Node = local
	}
	if wn := s.Lab.World().Node(s.nodeName(o.Node)); wn != nil && len(wn.Dockerd) > 0 {
		node := o.Node
		o, err = parseDockerd(append(append([]string(nil), wn.Dockerd...), args...))
		o.Node = node
	}
	return o, err
}

// errNodeFlag refuses -H in a world file's dockerd flags: the node is the
// one the flags belong to.
var errNodeFlag = errors.New("-H/--host: the flags are the node's own engine's")

// CheckWorld checks the dockerd flags that world w gives its nodes, as
// dockerd would take them; the error names the file, line and field.
func CheckWorld(w *world.World) error {
	var errs []error
	for _, n := range w.Nodes {
		if len(n.Dockerd) == 0 {
			continue
		}
		o, err := parseDockerdFlags(n.Dockerd)
		if err == nil && o.Node != "" {
			err = errNodeFlag
		}
		if err != nil {
			errs = append(errs, world.Errorf(n.DockerdPos, "nodes."+n.Name+".dockerd", "not dockerd's flags: %v", err))
		}
	}
	return errors.Join(errs...)
}
