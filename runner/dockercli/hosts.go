package dockercli

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/world"
)

// A world may have several Docker hosts (netkit/world: nodes with docker:
// true). The docker CLI picks a daemon with -H/--host or $DOCKER_HOST, and
// so does labrun's: a node's name, as tcp://NODE:2375, ssh://USER@NODE or
// NODE alone (which the CLI reads as tcp://NODE:2375: docker/cli v28.2.2
// opts/hosts.go parseDockerDaemonHost) picks that node's engine; unix://
// (the CLI's default, unix:///var/run/docker.sock) picks the world's first
// Docker host. `dockerd -H NODE` starts the engine of NODE. In a lab
// shell of a node that runs an engine ($LABRUN_NODE), the local daemon is
// that node's, as /var/run/docker.sock is on a real host.

// defaultDaemon is the daemon the CLI reaches without -H.
const defaultDaemon = "unix:///var/run/docker.sock"

// hostNode is the node a -H or $DOCKER_HOST value names: "" for the
// default daemon. Its error is the CLI's.
func hostNode(value string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", nil
	}
	proto, addr, found := strings.Cut(value, "://")
	if !found {
		proto, addr = "tcp", value
	}
	switch proto {
	case "unix", "npipe":
		return "", nil
	case "tcp", "ssh", "http", "https":
	default:
		return "", fmt.Errorf("invalid bind address (%s): unsupported proto '%s'", value, proto)
	}
	if at := strings.LastIndex(addr, "@"); at >= 0 && proto == "ssh" {
		addr = addr[at+1:]
	}
	addr, _, _ = strings.Cut(addr, "/")
	if h, _, err := net.SplitHostPort(addr); err == nil {
		addr = h
	}
	if addr == "" {
		return "", fmt.Errorf("invalid bind address (%s): no host", value)
	}
	return addr, nil
}

// globalFlags takes the docker CLI's -H/--host off the front of args
// (before the subcommand, as the CLI wants it), else reads $DOCKER_HOST:
// the node whose engine the command drives, and the rest of args.
func globalFlags(args []string, getenv func(string) string) (node, host string, rest []string, err error) {
	host = getenv("DOCKER_HOST")
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "-H" || a == "--host":
			if len(args) < 2 {
				return "", "", nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			host, args = args[1], args[2:]
		case strings.HasPrefix(a, "-H=") || strings.HasPrefix(a, "--host="):
			_, host, _ = strings.Cut(a, "=")
			args = args[1:]
		case strings.HasPrefix(a, "-H") && len(a) > 2:
			host, args = a[2:], args[1:]
		default:
			node, err = hostNode(host)
			return node, host, args, err
		}
	}
	node, err = hostNode(host)
	return node, host, args, err
}

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
