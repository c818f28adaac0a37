// Package dockerhost reads how the docker CLI picks a daemon, -H/--host
// and $DOCKER_HOST, as labrun's worlds use it: the node whose engine a
// command drives. It is pure, and not the engines (netkit) nor the rest of
// the command line (runner/dockercli).
package dockerhost

import (
	"fmt"
	"net"
	"strings"
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

// Default is the daemon the CLI reaches without -H.
const Default = "unix:///var/run/docker.sock"

// Node is the node a -H or $DOCKER_HOST value names: "" for the
// default daemon. Its error is the CLI's.
func Node(value string) (string, error) {
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

// GlobalFlags takes the docker CLI's -H/--host off the front of args
// (before the subcommand, as the CLI wants it), else reads $DOCKER_HOST:
// the node whose engine the command drives, and the rest of args.
func GlobalFlags(args []string, getenv func(string) string) (node, host string, rest []string, err error) {
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
			node, err = Node(host)
			return node, host, args, err
		}
	}
	node, err = Node(host)
	return node, host, args, err
}
