package netkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/ipam"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/world"
)

// Sentinel errors. Callers test them with errors.Is; the message of the
// wrapping error is Docker's own text where Docker has one.
var (
	// ErrNotFound: no such container, network, node or bridge.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a name, address or port is already taken.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: a request that Docker would reject as bad input.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotRunning: the engine or a container is not running.
	ErrNotRunning = errors.New("not running")
	// ErrNoExecutable: the program to run in a container is not in its
	// PATH (Docker's exit status 127); it is also an ErrInvalid.
	ErrNoExecutable = fmt.Errorf("%w: executable file not found", ErrInvalid)
)

// LabOptions configures a lab. The zero value is the article's classroom
// world with IP forwarding on in the host.
type LabOptions struct {
	// Name labels the lab in logs and pins; default "lab".
	Name string
	// World is the world the lab builds (netkit/world); nil is the
	// default, the classroom (worlds/classroom.yaml).
	World *world.World
	// HostIPForwardOff leaves net.ipv4.ip_forward at 0 in the Docker
	// hosts, so that the engine turns it on and sets the FORWARD policy to
	// DROP, as Docker does on a host that did not forward.
	HostIPForwardOff bool
	// Logf, when set, receives a line per operation (safe for concurrent use).
	Logf func(format string, args ...any)
}

// DaemonOptions are dockerd's networking flags. The zero value is dockerd
// with no flags, on the lab's first Docker host.
type DaemonOptions struct {
	// Node is the Docker host whose engine this is (a world may have
	// several; `dockerd -H NODE` in a scenario); "" is the first.
	Node string
	// Bridge is -b/--bridge: an existing bridge in the host node to use as
	// the default network; "none" disables the default bridge.
	Bridge string
	// BIP is --bip: the bridge's address and prefix (e.g. 192.168.1.1/24).
	BIP netip.Prefix
	// FixedCIDR is --fixed-cidr: the range container addresses come from.
	FixedCIDR netip.Prefix
	// DefaultGateway is --default-gateway.
	DefaultGateway netip.Addr
	// NoICC is --icc=false.
	NoICC bool
	// NoIPTables is --iptables=false.
	NoIPTables bool
	// NoIPForward is --ip-forward=false.
	NoIPForward bool
	// NoIPMasq is --ip-masq=false.
	NoIPMasq bool
	// IP is --ip: the default host address for published ports (default
	// 0.0.0.0).
	IP netip.Addr
	// NoUserlandProxy is --userland-proxy=false.
	NoUserlandProxy bool
	// Release is --compat: the Docker release whose rules, MACs and
	// output shapes the engine reproduces (the zero value is 27, API
	// 1.47). Its fields Era and APIVersion are promoted, so that
	// o.Era and o.APIVersion still name them. See era.go.
	release.Release
	// FirewallBackend is --firewall-backend: "" or "iptables" (netkit/
	// firewall), or "nftables" (Docker 29's ip docker-bridges table,
	// programmed over netlink).
	FirewallBackend string
	// MTU is --mtu, the default bridge's com.docker.network.driver.mtu
	// option and the MTU of its links; 0 means 1500.
	MTU int
	// IPv6 is --ipv6 (the default bridge gets --fixed-cidr-v6, or from
	// 28 a /64 of the ULA pool), IP6Tables --ip6tables.
	IPv6        bool
	FixedCIDRv6 netip.Prefix
	IP6Tables   release.Switch
}

// RunOptions describe a container, as docker run's flags do. The zero value
// is an anonymous busybox-like container on the default bridge.
type RunOptions struct {
	// Name is --name; generated (adjective_name) when empty.
	Name string
	// Hostname is -h; default the first 12 hex digits of the ID.
	Hostname string
	// Image is the image name shown by docker ps and inspect.
	Image string
	// ImageID is the image's full ID (64 hex digits) for docker inspect's
	// Image field; derived from Image when empty.
	ImageID string
	// Program is the registered initproc program run as the container's
	// main process ("" waits forever), with Args.
	Program string
	Args    []string
	// Comm is the main process's name (for ps, pgrep, docker top); default
	// Program, or "sh".
	Comm string
	// Command is the command line shown by docker ps (e.g. "httpd-foreground").
	Command string
	// Network is --net/--network.
	Network Mode
	// IP and IP6 are --ip and --ip6 (user-defined networks only).
	IP, IP6 netip.Addr
	// Publish holds the parsed -p specs.
	Publish []ports.Binding
	// PublishAll is -P: publish every exposed port on an ephemeral port.
	PublishAll bool
	// Expose lists the image's EXPOSE ports.
	Expose []ports.Port
	// ExtraExpose lists the --expose ports.
	ExtraExpose []ports.Port
	// Remove is --rm.
	Remove bool
	// ReadyTimeout bounds how long Run waits for the main process to report
	// readiness; default 5s.
	ReadyTimeout time.Duration
	// Env is -e/--env (KEY=VALUE), which links pass on.
	Env []string
	// Names: --domainname, --network-alias (for Network), --link,
	// --dns, --dns-search, --dns-option, --add-host (as the API carries
	// them, "NAME:ADDR", host-gateway kept) and --mac-address.
	Domainname string
	Aliases    []string
	Links      []Link
	DNS        []netip.Addr
	DNSSearch  []string
	DNSOptions []string
	ExtraHosts []string
	MacAddress net.HardwareAddr
	// Labels are --label's (Compose's, which find its containers again).
	// IPAMConfig: the endpoint request carries an IPAMConfig even without
	// --ip (Compose's, for a network the service configures): {}.
	Labels     map[string]string
	IPAMConfig bool
	// Stdout and Stderr receive the main program's output (docker logs);
	// nil discards it. The light waiter (no Program) writes nothing.
	Stdout, Stderr io.Writer
}

// Link is one --link NAME[:ALIAS]; Alias "" means the name.
type Link struct{ Name, Alias string }

// ConnectOptions are docker network connect's flags: --ip, --ip6 and
// --alias.
type ConnectOptions struct {
	IP, IP6 netip.Addr
	Aliases []string
	// Created: the endpoint was asked for at create, as Compose asks for
	// every network but the first, not by docker network connect; and
	// with IPAMConfig, with an IPAMConfig (see RunOptions.IPAMConfig).
	Created, IPAMConfig bool
}

// NetworkOptions describe a user-defined network (docker network create).
// The zero value asks for a bridge on the next free default pool.
type NetworkOptions struct {
	Name     string
	Driver   driver.Driver
	Subnet   netip.Prefix
	Gateway  netip.Addr
	IPRange  netip.Prefix
	Internal bool
	// Options holds -o key=value driver options.
	Options map[string]string
	// IPv6 is --ipv6, with IPAM6 the IPv6 --subnet, --gateway, --ip-range.
	IPv6  bool
	IPAM6 ipam.Request6
	// Labels are --label's (Compose's, which find its networks again).
	// NullIPAMOptions: the request's IPAM had no options (Compose's; docker
	// network create sends {}), which inspect shows as null.
	Labels          map[string]string
	NullIPAMOptions bool
}
