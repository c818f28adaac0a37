package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/labrun/labrun/runner/dockercli"
)

// badInput is one mistake a person can make in a scenario, and exactly what
// labrun answers. Each runs as a scenario of its own: setup (commands that
// succeed), then the bad command, not negated, so that the scenario fails
// there as a person would see it.
type badInput struct {
	name  string
	setup []string
	cmd   string
	// stderr is the bad command's standard error, exactly; <ID> stands for
	// a 64-hex-digit container, network or endpoint ID.
	stderr string
	// fail is the FAIL line's reason, after "FILE:LINE: ".
	fail string
	// docker names where Docker says the same (docker/cli, moby,
	// go-connections, spf13/pflag); empty for labrun's own commands.
	docker string
	// engineStops: the bad command is a dockerd restart, which stops the
	// running engine before the new one fails, as a real restart does
	// (scenarios/custom-bridge.txt relies on it). The lab must then be
	// exactly as a stopped engine leaves it (see withoutEngine).
	engineStops bool
}

// lines returns the scenario's setup lines: b.setup, with a plain
// dockerd first when the bad command is a docker command and nothing
// started the engine, so that the first docker command's starting of the
// engine is not taken for the bad command's doing.
func (b badInput) lines() []string {
	if !strings.HasPrefix(b.cmd, "docker ") {
		return b.setup
	}
	for _, l := range b.setup {
		if strings.HasPrefix(l, "docker") {
			return b.setup
		}
	}
	return append([]string{"dockerd"}, b.setup...)
}

// exit status reasons of the docker and dockerd commands, as the FAIL line
// gives them.
const (
	runFailed     = "docker run: exit status 125"
	runUsage      = "docker run: exit status 1"
	dockerdFailed = "dockerd: exit status 1"
	createFailed  = "docker network create: exit status 1"
	connectFailed = "docker network connect: exit status 1"
	composeFailed = "docker compose: exit status 1"
	pflagSrc      = "spf13/pflag via the docker CLI"
	natSrc        = "go-connections nat.ParsePortSpec via the docker CLI"
)

// traceUsage is trace's synopsis.
const traceUsage = "trace [-timeout D] [-reply] [-json] FROM ADDR:PORT|URL|ping ADDR"

// runHelp is the docker CLI's help line after a docker run error found
// before the container exists.
const runHelp = "\nSee 'docker run --help'.\n"

var badInputs = []badInput{
	// Malformed -p and --expose values: the docker CLI's messages.
	{name: "publish-reversed-range", cmd: "docker run -d -p 9090-9089:80 httpd",
		stderr: "docker: invalid hostPort: 9090-9089." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-negative-port", cmd: "docker run -d -p -9090:80 httpd",
		stderr: "docker: invalid hostPort: -9090." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-short-ip", cmd: "docker run -d -p 1.2.3:80:80 httpd",
		stderr: "docker: invalid IP address: 1.2.3." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-bad-proto", cmd: "docker run -d -p 80/sctpx httpd",
		stderr: "docker: invalid proto: sctpx." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-host-port-too-big", cmd: "docker run -d -p 70000:80 httpd",
		stderr: "docker: invalid hostPort: 70000." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-container-port-too-big", cmd: "docker run -d -p 80:70000 httpd",
		stderr: "docker: invalid containerPort: 70000." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-empty", cmd: "docker run -d -p : httpd",
		stderr: "docker: no port specified: :<empty>." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-port-zero", cmd: "docker run -d -p 0 httpd",
		stderr: `docker: Error response from daemon: invalid port specification: "0/tcp".` + runHelp, fail: runFailed,
		docker: "moby daemon validatePortBindings"},
	{name: "publish-range-sizes", cmd: "docker run -d -p 8000-8001:80-82 httpd",
		stderr: "docker: invalid ranges specified for container and host Ports: 80-82 and 8000-8001." + runHelp, fail: runFailed, docker: natSrc},
	{name: "publish-unclosed-bracket", cmd: "docker run -d -p [::1:80:80 httpd",
		stderr: "docker: invalid IP address [::1: address [::1:: missing ']' in address." + runHelp, fail: runFailed, docker: natSrc},
	{name: "expose-open-range", cmd: "docker run -d --expose 80- httpd",
		stderr: "docker: invalid range format for --expose: invalid end port '': value is empty." + runHelp, fail: runFailed,
		docker: "docker CLI opts.go, moby api ParsePortRange"},

	// Flags the docker CLI and dockerd do not know, or miss a value.
	{name: "run-unknown-flag", cmd: "docker run --nope httpd",
		stderr: "unknown flag: --nope" + runHelp, fail: runFailed, docker: pflagSrc},
	{name: "run-unknown-shorthand", cmd: "docker run -Z httpd",
		stderr: "unknown shorthand flag: 'Z' in -Z" + runHelp, fail: runFailed, docker: pflagSrc},
	{name: "run-flag-without-value", cmd: "docker run --name",
		stderr: "flag needs an argument: --name" + runHelp, fail: runFailed, docker: pflagSrc},
	{name: "run-shorthand-without-value", cmd: "docker run -d -p",
		stderr: "flag needs an argument: 'p' in -p" + runHelp, fail: runFailed, docker: pflagSrc},
	{name: "run-no-image", cmd: "docker run",
		stderr: "\"docker run\" requires at least 1 argument.\nSee 'docker run --help'.\n\n" +
			"Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image\n",
		fail: runUsage, docker: "docker CLI cli.RequiresMinArgs"},
	{name: "network-create-unknown-flag", cmd: "docker network create --nope x",
		stderr: "unknown flag: --nope\nSee 'docker network create --help'.\n",
		fail:   "docker network create: exit status 125", docker: pflagSrc},
	{name: "dockerd-unknown-flag", cmd: "dockerd --nope",
		stderr: "unknown flag: --nope\nSee 'dockerd --help'.\n", fail: dockerdFailed, docker: "spf13/pflag via dockerd"},
	{name: "dockerd-bad-bool", cmd: "dockerd --icc=maybe",
		stderr: "invalid argument \"maybe\" for \"--icc\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\nSee 'dockerd --help'.\n",
		fail:   dockerdFailed, docker: "spf13/pflag via dockerd"},
	{name: "dockerd-flag-without-value", cmd: "dockerd --bip",
		stderr: "flag needs an argument: --bip\nSee 'dockerd --help'.\n", fail: dockerdFailed, docker: "spf13/pflag via dockerd"},
	{name: "dockerd-bad-bip", cmd: "dockerd --bip 300.1.1.1/24",
		stderr: "invalid argument \"300.1.1.1/24\" for \"--bip\" flag: invalid CIDR address: 300.1.1.1/24\nSee 'dockerd --help'.\n",
		fail:   dockerdFailed},
	{name: "dockerd-argument", cmd: "dockerd extra",
		stderr: "\"dockerd\" accepts no arguments.\nSee 'dockerd --help'.\n", fail: dockerdFailed},

	// Images, names and container: references.
	{name: "unknown-image", cmd: "docker run -d nosuchimage",
		stderr: "Unable to find image 'nosuchimage:latest' locally\n" +
			"docker: Error response from daemon: pull access denied for nosuchimage, repository does not exist or may require 'docker login': denied: requested access to the resource is denied." + runHelp,
		fail: runFailed, docker: "docker CLI pull; registry's denial"},
	{name: "duplicate-name", setup: []string{"docker run -d --name web1 httpd"}, cmd: "docker run -d --name web1 httpd",
		stderr: `docker: Error response from daemon: Conflict. The container name "/web1" is already in use by container "<ID>". You have to remove (or rename) that container to be able to reuse that name.` + runHelp,
		fail:   runFailed, docker: "moby daemon/names.go"},
	{name: "invalid-name", cmd: "docker run -d --name 'bad name' httpd",
		stderr: "docker: Error response from daemon: Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed." + runHelp,
		fail:   runFailed, docker: "moby daemon/names.go"},
	{name: "invalid-name-one-char", cmd: "docker run -d --name a httpd",
		stderr: "docker: Error response from daemon: Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed." + runHelp,
		fail:   runFailed, docker: "moby daemon/names.go reserveName (docs/docker.md §6)"},
	{name: "invalid-name-slash-one-char", cmd: "docker run -d --name /a httpd",
		stderr: "docker: Error response from daemon: Invalid container name (/a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed." + runHelp,
		fail:   runFailed, docker: "moby daemon/names.go reserveName (docs/docker.md §6)"},
	{name: "invalid-name-underscore-first", cmd: "docker run -d --name _web httpd",
		stderr: "docker: Error response from daemon: Invalid container name (_web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed." + runHelp,
		fail:   runFailed, docker: "moby daemon/names.go reserveName (docs/docker.md §6)"},
	{name: "container-mode-missing", cmd: "docker run -d --net container:ghost httpd",
		stderr: "docker: Error response from daemon: No such container: ghost." + runHelp, fail: runFailed,
		docker: "moby daemon GetContainer"},
	{name: "container-mode-no-name", cmd: "docker run -d --net container httpd",
		stderr: "docker: Error response from daemon: invalid container format container:<name|id>." + runHelp, fail: runFailed,
		docker: "moby runconfig hostconfig.go"},
	{name: "container-mode-publish", setup: []string{"docker run -d --name web1 httpd"}, cmd: "docker run -d --net container:web1 -p 80:80 httpd",
		stderr: "docker: Error response from daemon: conflicting options: port publishing and the container type network mode." + runHelp,
		fail:   runFailed, docker: "moby runconfig hostconfig.go"},
	{name: "container-mode-hostname", setup: []string{"docker run -d --name web1 httpd"}, cmd: "docker run -d --net container:web1 -h x httpd",
		stderr: "docker: Error response from daemon: conflicting options: hostname and the network mode." + runHelp,
		fail:   runFailed, docker: "moby runconfig hostconfig.go"},
	{name: "container-mode-stopped", setup: []string{"docker run -d --name web1 httpd", "docker stop web1"}, cmd: "docker run -d --name web2 --net container:web1 httpd",
		stderr: "docker: Error response from daemon: cannot join network of a non running container: <ID>.\n", fail: runFailed,
		docker: "moby 24 container_operations.go"},
	// The container is created, and its start fails (without the
	// help line, which the CLI before 28 gives create errors only).
	{name: "unknown-network", cmd: "docker run -d --net nosuchnet httpd",
		stderr: "docker: Error response from daemon: network nosuchnet not found.\n", fail: runFailed,
		docker: "moby libnetwork ErrNoSuchNetwork, daemon/create.go validateNetworkingConfig"},
	{name: "ip-on-default-bridge", cmd: "docker run -d --ip 172.17.0.9 httpd",
		stderr: "docker: Error response from daemon: invalid config for network bridge: invalid endpoint settings:\n" +
			"* user specified IP address is supported on user defined networks only\n" +
			"* user specified IP address is supported only when connecting to networks with user configured subnets." + runHelp,
		fail: runFailed, docker: "moby runconfig/errors.go, daemon/create.go validateNetworkingConfig (25.0+)"},

	// Ports already taken: Docker's allocator refuses, and the new
	// container stays created, with nothing of its network.
	{name: "port-conflict", setup: []string{"docker run -d --name web1 -p 801:80 httpd"}, cmd: "docker run -d --name web2 -p 801:80 httpd",
		stderr: "docker: Error response from daemon: driver failed programming external connectivity on endpoint web2 (<ID>): Bind for 0.0.0.0:801 failed: port is already allocated.\n",
		fail:   runFailed, docker: "moby portallocator, libnetwork"},
	{name: "port-conflict-second-binding", setup: []string{"docker run -d --name web1 -p 801:80 httpd"}, cmd: "docker run -d --name web2 -p 802:80 -p 801:81 httpd",
		stderr: "docker: Error response from daemon: driver failed programming external connectivity on endpoint web2 (<ID>): Bind for 0.0.0.0:801 failed: port is already allocated.\n",
		fail:   runFailed, docker: "moby portallocator, libnetwork"},
	{name: "port-conflict-udp", setup: []string{"docker run -d --name web1 -p 53:53/udp httpd"}, cmd: "docker run -d --name web2 -p 53:53/udp httpd",
		stderr: "docker: Error response from daemon: driver failed programming external connectivity on endpoint web2 (<ID>): Bind for 0.0.0.0:53 failed: port is already allocated.\n",
		fail:   runFailed, docker: "moby portallocator, libnetwork"},
	{name: "port-conflict-same-container", cmd: "docker run -d --name web1 -p 801:80 -p 801:81 httpd",
		stderr: "docker: Error response from daemon: driver failed programming external connectivity on endpoint web1 (<ID>): Bind for 0.0.0.0:801 failed: port is already allocated.\n",
		fail:   runFailed, docker: "moby portallocator, libnetwork"},
	{name: "port-range-exhausted", cmd: "docker run -d --name web1 -p 801-802:80 -p 801-802:81 -p 801-802:82 httpd",
		stderr: "docker: Error response from daemon: driver failed programming external connectivity on endpoint web1 (<ID>): all ports are allocated.\n",
		fail:   runFailed, docker: "moby portallocator ErrAllPortsAllocated"},

	// Addresses: an exhausted pool, a taken or foreign --ip.
	{name: "pool-exhausted", setup: []string{"dockerd --bip 10.9.0.1/30", "docker run -d --name web1 httpd"}, cmd: "docker run -d --name web2 httpd",
		stderr: "docker: Error response from daemon: no available IPv4 addresses on this network's address pools: bridge (<ID>).\n",
		fail:   runFailed, docker: "moby libnetwork endpoint.go"},
	{name: "pool-exhausted-connect", setup: []string{"docker network create --subnet 10.9.0.0/30 x", "docker run -d --name web1 httpd",
		"docker run -d --name web2 httpd", "docker network connect x web1"}, cmd: "docker network connect x web2",
		stderr: "Error response from daemon: no available IPv4 addresses on this network's address pools: x (<ID>)\n",
		fail:   connectFailed, docker: "moby libnetwork endpoint.go"},
	{name: "ip-taken", setup: []string{"docker network create --subnet 10.9.0.0/24 x", "docker run -d --name web1 --net x --ip 10.9.0.5 httpd"},
		cmd:    "docker run -d --name web2 --net x --ip 10.9.0.5 httpd",
		stderr: "docker: Error response from daemon: Address already in use.\n", fail: runFailed, docker: "moby libnetwork ipam ErrIPAlreadyAllocated"},
	{name: "connect-ip-outside-subnet", setup: []string{"docker network create --subnet 10.9.0.0/24 x", "docker run -d --name web1 httpd"},
		cmd:    "docker network connect --ip 10.8.0.5 x web1",
		stderr: "Error response from daemon: invalid endpoint settings:\nno configured subnet or ip-range contain the IP address 10.8.0.5\n", fail: connectFailed,
		docker: "moby daemon/container_operations.go validateEndpointSettings (seen on 28.5.2)"},
	{name: "connect-twice", setup: []string{"docker network create x", "docker run -d --name web1 --net x httpd"}, cmd: "docker network connect x web1",
		stderr: "Error response from daemon: endpoint with name web1 already exists in network x\n", fail: connectFailed,
		docker: "moby libnetwork ActiveEndpointError"},

	// Subnets: overlapping, invalid, and what does not fit in them.
	{name: "subnet-overlap", cmd: "docker network create --subnet 172.17.0.0/16 x",
		stderr: "Error response from daemon: invalid pool request: Pool overlaps with other one on this address space\n",
		fail:   createFailed, docker: "moby libnetwork ipam"},
	{name: "subnet-overlap-user", setup: []string{"docker network create --subnet 10.9.0.0/16 x"}, cmd: "docker network create --subnet 10.9.8.0/24 y",
		stderr: "Error response from daemon: invalid pool request: Pool overlaps with other one on this address space\n",
		fail:   createFailed, docker: "moby libnetwork ipam"},
	{name: "subnet-invalid", cmd: "docker network create --subnet 300.1.1.0/24 x",
		stderr: "Error response from daemon: invalid network config:\ninvalid subnet 300.1.1.0/24: invalid CIDR block notation\n",
		fail:   createFailed, docker: "moby api network.ValidateIPAM"},
	{name: "subnet-host-bits", cmd: "docker network create --subnet 10.1.1.1/24 x",
		stderr: "Error response from daemon: invalid network config:\ninvalid subnet 10.1.1.1/24: it should be 10.1.1.0/24\n",
		fail:   createFailed, docker: "moby api network.ValidateIPAM"},
	{name: "gateway-outside-subnet", cmd: "docker network create --subnet 10.1.0.0/16 --gateway 10.2.0.1 x",
		stderr: "no matching subnet for gateway 10.2.0.1\n", fail: createFailed, docker: "docker CLI network create"},
	{name: "ip-range-outside-subnet", cmd: "docker network create --subnet 10.1.0.0/16 --ip-range 10.2.0.0/24 x",
		stderr: "no matching subnet for range 10.2.0.0/24\n", fail: createFailed, docker: "docker CLI network create"},
	{name: "gateway-without-subnet", cmd: "docker network create --gateway 10.2.0.1 x",
		stderr: "every ip-range or gateway must have a corresponding subnet\n", fail: createFailed, docker: "docker CLI network create"},
	{name: "network-exists", setup: []string{"docker network create x"}, cmd: "docker network create x",
		stderr: "Error response from daemon: network with name x already exists\n", fail: createFailed, docker: "moby libnetwork NetworkNameError"},
	{name: "network-rm-in-use", setup: []string{"docker network create x", "docker run -d --name web1 --net x httpd"}, cmd: "docker network rm x",
		stderr: "Error response from daemon: error while removing network: network x id <ID> has active endpoints\n",
		fail:   "docker network rm: exit status 1", docker: "moby libnetwork ActiveEndpointsError"},

	// dockerd: -b, --bip and the flags they refuse.
	{name: "bridge-missing", cmd: "dockerd -b nosuchbr",
		stderr: "failed to start daemon: bridge device with non default name nosuchbr must be created manually\n",
		fail:   dockerdFailed, docker: "moby bridge driver setup_device"},
	{name: "bridge-missing-restart", setup: []string{"docker run -d --name web1 -p 801:80 httpd"}, cmd: "dockerd -b nosuchbr",
		stderr: "failed to start daemon: bridge device with non default name nosuchbr must be created manually\n",
		fail:   dockerdFailed, docker: "moby bridge driver setup_device", engineStops: true},
	{name: "bridge-and-bip", cmd: "dockerd -b br0 --bip 10.0.0.1/24",
		stderr: "failed to start daemon: You specified -b & --bip, mutually exclusive options. Please specify only one\n",
		fail:   dockerdFailed, docker: "moby verifyDaemonSettings"},
	{name: "icc-without-iptables", cmd: "dockerd --icc=false --iptables=false",
		stderr: "failed to start daemon: You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true\n",
		fail:   dockerdFailed, docker: "moby verifyDaemonSettings"},
	{name: "fixed-cidr-outside-bip", cmd: "dockerd --icc=false --bip 10.0.0.1/24 --fixed-cidr 10.1.0.0/24",
		stderr: "failed to start daemon: fixed-cidr 10.1.0.0/24 is not within the bridge subnet 10.0.0.0/24\n", fail: dockerdFailed},
	{name: "fixed-cidr-outside-bip-restart", setup: []string{"docker network create --subnet 10.9.0.0/24 x", "docker run -d --name web1 -p 801:80 httpd", "docker run -d --name web2 --net x httpd"},
		cmd:    "dockerd --icc=false --userland-proxy=false --bip 10.0.0.1/24 --fixed-cidr 10.1.0.0/24",
		stderr: "failed to start daemon: fixed-cidr 10.1.0.0/24 is not within the bridge subnet 10.0.0.0/24\n", fail: dockerdFailed, engineStops: true},
	{name: "nftables-no-forwarding", setup: []string{"on host sysctl -qw net.ipv4.ip_forward=0"}, cmd: "dockerd --compat=29 --firewall-backend=nftables",
		stderr: "failed to start daemon: Error initializing network controller: error creating default \"bridge\" network: IPv4 forwarding is disabled: " +
			"check your host's firewalling and set sysctl net.ipv4.ip_forward=1, or disable this check using daemon option --ip-forward=false\n",
		fail: dockerdFailed, docker: "moby v2.0.0-beta.24 (29.8.1) checkIPv4Forwarding, seen on the real engine"},
	{name: "default-gateway-outside-bip", cmd: "dockerd --bip 10.0.0.1/24 --default-gateway 10.1.0.1",
		stderr: "failed to start daemon: default gateway 10.1.0.1 is not within the bridge subnet 10.0.0.0/24\n", fail: dockerdFailed},

	// labrun's own commands: unknown nodes, commands and arguments.
	{name: "on-unknown-node", cmd: "on nosuch true",
		fail: `no node "nosuch" (nodes: host, client, gateway, internet): not found`},
	{name: "capture-iface-typo", cmd: "capture start c1 host eht0 tcp",
		stderr: "capture start c1 on host: capturing on \"eht0\": no interface \"eht0\" (interfaces: lo, eth0); did you mean \"eth0\"?\n",
		fail:   `capture start c1 on host: capturing on "eht0": no interface "eht0" (interfaces: lo, eth0); did you mean "eth0"?`},
	{name: "on-node-typo", setup: []string{"docker run -d --name web1 httpd"}, cmd: "on hots true",
		fail: `no node "hots"; did you mean "host"? (nodes: host, client, gateway, internet, web1): not found`},
	{name: "on-stopped-container", setup: []string{"docker run -d --name web1 httpd", "docker stop web1"}, cmd: "on web1 true",
		fail: "container web1 is not running"},
	{name: "on-no-program", cmd: "on host", fail: "usage: on NODE PROGRAM [ARGS...]"},
	{name: "on-unknown-program", cmd: "on host nosuchprogram",
		fail: `running in node host: exec: "nosuchprogram": executable file not found in $PATH`},
	{name: "reach-no-address", cmd: "reach client", fail: "usage: reach [-udp] [-timeout D] FROM ADDR:PORT | -all [-timeout D]"},
	{name: "reach-all-with-node", cmd: "reach -all client", fail: "usage: reach [-udp] [-timeout D] FROM ADDR:PORT | -all [-timeout D]"},
	{name: "reach-no-port", cmd: "reach client 1.2.3.4",
		fail: "reach: \"1.2.3.4\" is not ADDR:PORT\nusage: reach [-udp] [-timeout D] FROM ADDR:PORT | -all [-timeout D]"},
	{name: "reach-unknown-node", cmd: "reach nosuch 192.168.190.128:80",
		fail: `no node "nosuch" (nodes: host, client, gateway, internet): not found`},
	{name: "reach-bad-timeout", cmd: "reach -timeout xyz client 192.168.190.128:80",
		fail: "invalid -timeout \"xyz\"\nusage: reach [-udp] [-timeout D] FROM ADDR:PORT | -all [-timeout D]"},
	{name: "ping-no-args", cmd: "ping", fail: "usage: ping [-timeout D] FROM ADDR"},
	{name: "ping-bad-address", cmd: "ping client nota.ddr",
		fail: "ping: \"nota.ddr\" is not an IP address\nusage: ping [-timeout D] FROM ADDR"},
	{name: "http-not-a-url", cmd: "http client notaurl",
		stderr: "http: getting notaurl: unsupported protocol scheme \"\"\n",
		fail:   "http: getting notaurl: unsupported protocol scheme \"\""},
	{name: "trace-no-target", cmd: "trace client", fail: "usage: " + traceUsage},
	{name: "trace-no-port", cmd: "trace client 192.168.190.128",
		fail: "trace: \"192.168.190.128\" has no port: write ADDR:PORT, or ping 192.168.190.128\nusage: " + traceUsage},
	{name: "trace-url-name", cmd: "trace client http://web/",
		fail: "trace: the host of \"http://web/\" must be an IP address\nusage: " + traceUsage},
	{name: "trace-unknown-node", cmd: "trace clent 192.168.190.128:80",
		fail: `no node "clent"; did you mean "client"? (nodes: host, client, gateway, internet): not found`},
	{name: "ssh-no-args", cmd: "ssh", fail: "usage: ssh [-timeout D] [-password P] FROM [USER@]ADDR[:PORT] [COMMAND...]"},
	{name: "docker-no-subcommand", cmd: "docker", fail: "usage: docker SUBCOMMAND [ARGS...]"},
	{name: "docker-unknown-subcommand", cmd: "docker frob",
		fail: "docker frob: not a docker command that labrun implements (run, ps, port, inspect, container inspect, exec, stop, restart, start, attach, logs, wait, rm, top, images, network ls, network inspect, network create, network rm, network connect, network disconnect, compose)\nusage: docker SUBCOMMAND [ARGS...]"},
	{name: "unknown-command", cmd: "frobnicate x", fail: `unknown command "frobnicate"`},
	// docker compose: Compose's texts, then exit status 1.
	{name: "compose-unknown-subcommand", cmd: "docker compose -p x frob",
		stderr: "unknown docker command: \"compose frob\"\n", fail: composeFailed, docker: "docker/compose cmd/compose/compose.go RootCommand"},
	{name: "compose-no-file", cmd: "docker compose up -d",
		stderr: "no configuration file provided: not found\n", fail: composeFailed, docker: "compose-go loader.LoadConfigFiles"},
	{name: "compose-unknown-flag", cmd: "docker compose -p x up --nope",
		stderr: "unknown flag: --nope\n", fail: composeFailed, docker: pflagSrc},
	{name: "compose-exec-not-running", cmd: "docker compose -p x exec web sh",
		stderr: "service \"web\" is not running\n", fail: composeFailed, docker: "docker/compose pkg/compose/containers.go getSpecifiedContainer"},
	{name: "negated-usage-error", cmd: "! reach client", fail: "usage: reach [-udp] [-timeout D] FROM ADDR:PORT | -all [-timeout D]"},
	{name: "unknown-condition", cmd: "[nosuchcond] on host true", fail: `bad condition "nosuchcond": unknown condition "nosuchcond"`},
}

// TestBadInput runs every bad input as a scenario of its own, one at a
// time, through testscript.RunT, and checks three things: the bad
// command's stderr is exactly the expected text, the FAIL line names the
// scenario file and the bad command's line, and the lab after the failure
// is as it was just before the bad command (see labState).
func TestBadInput(t *testing.T) {
	testkit.RequireLab(t)
	// The messages are the Docker 27 era's, labrun's default.
	t.Setenv(dockercli.DockerdEnv, "")
	require.GreaterOrEqual(t, len(badInputs), 40, "bad inputs: the reliability issue asks for at least 40")
	dir := t.TempDir()
	seen := map[string]bool{}
	for _, b := range badInputs {
		require.False(t, seen[b.name], "bad input %q listed twice", b.name)
		seen[b.name] = true
		var s strings.Builder
		fmt.Fprintf(&s, "# bad input: %s\n", b.name)
		for _, l := range b.lines() {
			s.WriteString(l + "\n")
		}
		fmt.Fprintf(&s, "lab-mark %s\n%s\n", b.name, b.cmd)
		require.NoError(t, os.WriteFile(filepath.Join(dir, b.name+".txt"), []byte(s.String()), 0o644))
	}
	marks := &labMarks{after: map[string]string{}, before: map[string]string{}}
	res := runWithCmds(t, dir, Cmd{
		Name: "lab-mark", Usage: "NAME", Summary: "Record the lab's state, to compare when the script ends.",
		Run: marks.run,
	})
	docker := 0
	for _, b := range badInputs {
		if b.docker != "" {
			docker++
		}
	}
	t.Logf("%d bad inputs (%d with Docker's own text), each in a scenario of its own", len(badInputs), docker)
	id := regexp.MustCompile(`[0-9a-f]{64}`)
	for _, b := range badInputs {
		r, ok := res[b.name]
		if !ok {
			t.Errorf("%s: did not run", b.name)
			continue
		}
		log := r.LogText()
		line := len(b.lines()) + 3
		wantFail := fmt.Sprintf("FAIL: %s:%d: %s", filepath.Join(dir, b.name+".txt"), line, b.fail)
		if !strings.Contains(log, wantFail+"\n") {
			t.Errorf("%s: want the failure\n%s\nin the log:\n%s", b.name, wantFail, log)
			continue
		}
		got := id.ReplaceAllString(badStderr(log, b.cmd), "<ID>")
		assert.Equal(t, b.stderr, got, "%s: %s\nstderr", b.name, b.cmd)
		marks.mu.Lock()
		before, after := marks.before[b.name], marks.after[b.name]
		marks.mu.Unlock()
		if before == "" || after == "" {
			t.Errorf("%s: the lab's state was not recorded (before %d bytes, after %d)", b.name, len(before), len(after))
			continue
		}
		if b.engineStops {
			assert.NoError(t, engineStopped(before, after), "%s: %s", b.name, b.cmd)
			continue
		}
		assert.Equal(t, before, after, "%s: %s changed the lab", b.name, b.cmd)
	}
}

// runWithCmds runs the scenarios in dir, one at a time, with extra
// commands, and returns each one's result by name.
func runWithCmds(t *testing.T, dir string, cmds ...Cmd) map[string]*ScriptT {
	t.Helper()
	p := testscript.Params{Dir: dir, Cmds: map[string]func(*testscript.TestScript, bool, []string){}}
	for _, c := range cmds {
		p.Cmds[c.Name] = tsCmd(c)
	}
	return runParams(t, scriptParams(t, p, Options{}))
}

// badStderr returns what the log shows as the standard error of the last
// run of cmd: the lines after "[stderr]" up to the FAIL line, without the
// blank line that ends the section.
func badStderr(log, cmd string) string {
	i := strings.LastIndex(log, "> "+cmd+"\n")
	if i < 0 {
		return "(command not in the log)"
	}
	log = log[i:]
	j := strings.Index(log, "[stderr]\n")
	if j < 0 {
		return ""
	}
	s := log[j+len("[stderr]\n"):]
	if k := strings.Index(s, "\nFAIL: "); k >= 0 {
		s = s[:k+1]
	}
	return strings.TrimSuffix(s, "\n")
}

// labMarks is the lab-mark command's record: each scenario's lab state
// when lab-mark ran, and when the scenario ended (before its lab closed).
type labMarks struct {
	mu            sync.Mutex
	before, after map[string]string
}

func (m *labMarks) run(e *Env, args []string) error {
	if len(args) != 1 {
		return ErrUsage
	}
	name := args[0]
	s, err := labState(e.Lab())
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.before[name] = s
	m.mu.Unlock()
	// Deferred functions run in reverse order: this one before the lab
	// closes, which Setup deferred first.
	e.ts.Defer(func() {
		s, err := labState(e.Lab())
		if err != nil {
			s = "error: " + err.Error()
		}
		m.mu.Lock()
		m.after[name] = s
		m.mu.Unlock()
	})
	return nil
}

// labState describes what a failed command must leave as it was, one fact
// a line: the host node's links, addresses, routes, listening sockets,
// iptables rules and forwarding sysctls (testkit.NSState); the engine's networks, endpoints
// and running containers with their addresses and ports (a container that
// a failed docker run leaves created, as Docker does, must have nothing of
// a network); the processes descending from labrun; and the network
// namespaces labrun holds open.
func labState(lab *netkit.Lab, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if eng := lab.Engine(); eng != nil {
		eng.Settle() // the engine's start ends in the background (ip6tables)
	}
	host := lab.Host()
	lines, err := testkit.NSState(host.NS(), testkit.StateOptions{
		IPTables: true,
		Sysctls:  []string{"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables"},
	})
	if err != nil {
		return "", err
	}
	add := lines.Addf
	if eng := lab.Engine(); eng == nil {
		add("engine stopped")
	} else {
		add("engine %+v", eng.Options())
		for _, n := range eng.Networks() {
			j := n.Inspect(eng)
			add("network %s %s %s", n.Name, n.Bridge, n.Subnet)
			for id, c := range j.Containers {
				add("endpoint %s %s %s %s %s", n.Name, id, c.Name, c.IPv4Address, c.MacAddress)
			}
		}
		for _, c := range eng.Containers(true) {
			switch st := c.State(); {
			case st == "running":
				add("container %s running %s %v", c.Name, c.IP(""), c.Ports())
			case c.IP("").IsValid() || len(c.Ports()) > 0 || c.Node() != nil:
				add("container %s %s still has a network: %s %v", c.Name, st, c.IP(""), c.Ports())
			}
		}
	}
	for _, p := range testkit.Descendants(os.Getpid()) {
		add("process %s", p)
	}
	lines = append(lines, testkit.HeldNamespaces()...)
	return lines.Sorted().String(), nil
}

// engineStopped checks the lab after a failed dockerd restart against the
// one before it: the engine is stopped and everything of it is gone (rules,
// proxies, container processes and namespaces, veths), and the rest is as it
// was: the world's links and addresses, docker0 and the user-defined
// networks' bridges (Docker leaves them), the sysctls.
func engineStopped(before, after string) error {
	want := withoutEngine(before) + "engine stopped\n"
	if got := withoutEngine(after) + "engine stopped\n"; got != want || !strings.Contains(after, "engine stopped\n") {
		return fmt.Errorf("the lab is not as a stopped engine leaves it:\n%s", testkit.TextDiff("want", want, "after", after))
	}
	beforeNS := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		if strings.HasPrefix(l, "netns ") {
			beforeNS[l] = true
		}
	}
	for _, l := range strings.Split(after, "\n") {
		switch {
		case strings.HasPrefix(l, "process "), strings.HasPrefix(l, "socket "):
			return fmt.Errorf("the stopped engine left %q", l)
		case strings.HasPrefix(l, "netns ") && !beforeNS[l]:
			return fmt.Errorf("a new namespace appeared: %q", l)
		}
	}
	return nil
}

// withoutEngine drops from a lab state what a running engine owns and a
// stopped one does not: the engine, its networks, endpoints and running
// containers, their processes, sockets and namespaces, its iptables chains
// and rules, and the containers' veths.
func withoutEngine(state string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(state, "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "engine", "network", "endpoint", "container", "process", "socket", "netns", "iptables":
			continue
		case "link", "addr":
			if strings.HasPrefix(f[1], "veth") {
				continue
			}
		case "route":
			if strings.HasPrefix(f[len(f)-1], "veth") {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}
