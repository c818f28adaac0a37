// Package oracle starts real Docker Engines (dockerd built by `make oracle`)
// as oracles for the fidelity tests and the benchmarks: each in fresh
// network, mount and PID namespaces of its own, with the lab host's address,
// its data and exec roots on a tmpfs inside its mount namespace, the lab
// host's /etc/resolv.conf and /etc/hosts bound over the machine's, and its own
// socket, reached through /proc/PID/root. Nothing of an engine is in the
// root network namespace, on disk or in the machine's engine; it dies with
// the process that started it, however that process ends (its PID 1 has a
// parent-death signal, and the namespaces die with their last process).
//
// It is not labrun: labrun never starts, needs or uses a real engine. It is
// not the machine's engine either (that one is reached with the docker CLI's
// defaults by package fidelity).
package oracle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/world"
)

// Backend is an engine's firewall back end (dockerd --firewall-backend).
type Backend string

const (
	IPTables Backend = "iptables" // the default
	NFTables Backend = "nftables" // Docker 29 and later
)

// Options say which engine Start starts and how. The zero value of each
// optional field is the default.
type Options struct {
	// Version is the engine's release, a directory of Dir ("28.5.2").
	Version string
	// Dir is where `make oracle` put the engines; "" is DefaultDir().
	Dir string
	// Backend is the firewall back end; "" is iptables (the flag is not
	// passed).
	Backend Backend
	// Flags are more daemon flags ("--icc=false").
	Flags []string
	// IPForward is the host's net.ipv4.ip_forward before the engine
	// starts. A fresh Docker host has 0 (the zero value); Docker 29 with
	// nftables refuses to start without forwarding.
	IPForward bool
	// Host are shell lines run in the host's network namespace before the
	// engine starts ("ip link add br0 type bridge" for dockerd -b br0).
	Host []string
}

// HostAddr is the engine host's address, the lab host's
// (netkit.HostAddr), and Gateway its default gateway; HostAddr6 and
// Gateway6 the same in IPv6 (world.HostAddr6, world.GatewayLAN6).
var (
	HostAddr  = world.HostAddr
	Gateway   = world.GatewayLAN.Addr()
	HostAddr6 = world.HostAddr6
	Gateway6  = world.GatewayLAN6.Addr()
)

// ErrNoEngine is returned by Start when Dir holds no such engine.
var ErrNoEngine = errors.New("no such engine (make oracle builds them)")

// Versions are the engines `make oracle` builds, oldest first.
var Versions = []string{"28.5.2", "29.8.1"}

// runcVersion is the runc `make oracle` builds; Debian's 1.1.5 cannot
// run Docker 29's containers (no time namespace).
const runcVersion = "1.5.3"

// DefaultDir is the Makefile's ORACLE_DIR default:
// $XDG_CACHE_HOME/labrun/oracle, or ~/.cache/labrun/oracle.
func DefaultDir() string {
	if d := os.Getenv("ORACLE_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "labrun", "oracle")
}

// Available returns the versions of Versions whose dockerd is in dir ("":
// DefaultDir()).
func Available(dir string) []string {
	if dir == "" {
		dir = DefaultDir()
	}
	var out []string
	for _, v := range Versions {
		if _, err := os.Stat(filepath.Join(dir, v, "dockerd")); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// Engine is a running real engine.
type Engine struct {
	// Version is its release.
	Version string
	// Backend is its firewall back end.
	Backend Backend
	// Socket is its API socket: DOCKER_HOST is "unix://" + Socket.
	Socket string

	ns, peer *netns.NS
	zone     io.Closer // the lab's resolver, in peer
	cmd      *exec.Cmd
	done     chan struct{}
	cgroup   string // the engine's --cgroup-parent, below each hierarchy
	stderr   *bytes.Buffer
}

// runDir is in the tmpfs on /run inside the engine's mount namespace, which
// holds its data and exec roots and its socket.
const runDir = "/run/oracle"

// cgroupPrefix names the engines' cgroup parents (and lets Start remove
// those a killed run left).
const cgroupPrefix = "labrun-oracle-"

// Start starts the engine opts names and waits until its API answers (at
// most 60 s).
//
// Equivalent to: unshare --net --mount --pid --fork sh -c 'mount tmpfs on
// /run, sysfs, the cgroup hierarchies; dockerd --data-root ... -H
// unix:///run/oracle/docker.sock'
func Start(ctx context.Context, opts Options) (*Engine, error) {
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	dockerd := filepath.Join(dir, opts.Version, "dockerd")
	if _, err := os.Stat(dockerd); err != nil {
		return nil, fmt.Errorf("starting Docker %s: %w: %s", opts.Version, ErrNoEngine, dockerd)
	}
	sweepCgroups()
	e := &Engine{Version: opts.Version, Backend: opts.Backend, done: make(chan struct{}), stderr: &bytes.Buffer{},
		cgroup: cgroupPrefix + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	if e.Backend == "" {
		e.Backend = IPTables
	}
	if err := e.start(ctx, dir, dockerd, opts); err != nil {
		e.Close()
		return nil, fmt.Errorf("starting Docker %s (%s): %w", opts.Version, e.Backend, err)
	}
	return e, nil
}

func (e *Engine) start(ctx context.Context, dir, dockerd string, opts Options) error {
	var err error
	if e.ns, err = netns.New(); err != nil {
		return err
	}
	if e.peer, err = netns.New(); err != nil {
		return err
	}
	if err := plumb(e.ns, e.peer); err != nil {
		return err
	}
	if e.zone, err = serveLabResolver(e.peer); err != nil {
		return err
	}
	forward := "0"
	if opts.IPForward {
		forward = "1"
	}
	if err := e.ns.WriteSysctl("net/ipv4/ip_forward", forward); err != nil {
		return err
	}
	for _, line := range opts.Host {
		if out, err := e.Output("sh", "-c", line); err != nil {
			return fmt.Errorf("host: %w: %s", err, out)
		}
	}
	args := []string{dockerd,
		"--config-file", runDir + "/daemon.json", // not the machine's /etc/docker/daemon.json
		// The exec root and pid file are the defaults, below /run
		// (/var/run): SandboxKey shows /var/run/docker/netns/ID. The
		// socket is not: /proc/PID/root/run/docker.sock would be the
		// machine engine's until the tmpfs is mounted.
		"--data-root", runDir + "/data", "-H", "unix://" + runDir + "/docker.sock", "--storage-driver", "vfs",
		"--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", "/" + e.cgroup}
	if opts.Backend != "" {
		args = append(args, "--firewall-backend", string(opts.Backend))
	}
	args = append(args, opts.Flags...)
	mounts, err := cgroupMounts()
	if err != nil {
		return err
	}
	// PID 1 of the namespaces is sh: it mounts what the engine must see
	// as its own, runs dockerd and reaps the orphans of its tree.
	script := `set -e
mount --make-rprivate /
mount -t proc proc /proc
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p ` + runDir + `
echo '{}' > ` + runDir + `/daemon.json
printf '%s' "$RESOLV_CONF" > ` + runDir + `/resolv.conf
mount --bind ` + runDir + `/resolv.conf /etc/resolv.conf
printf '%s' "$HOSTS" > ` + runDir + `/hosts
mount --bind ` + runDir + `/hosts /etc/hosts
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
` + mounts + `
export PATH="$RUNC_DIR:$ENGINE_DIR:$PATH"
"$@" &
wait $!
`
	e.cmd = exec.Command("sh", append([]string{"-c", script, "oracle"}, args...)...)
	// Its own docker-proxy, and runc 1.5.3 (Debian's 1.1.5 serves 28 only).
	e.cmd.Env = append(os.Environ(), "RUNC_DIR="+filepath.Join(dir, "runc-"+runcVersion), "ENGINE_DIR="+filepath.Dir(dockerd),
		// The lab host's /etc files, which labrun's engine reads as its host's.
		"RESOLV_CONF="+world.ResolvConf(), "HOSTS="+world.Hosts(world.Host))
	e.cmd.Stdout, e.cmd.Stderr = e.stderr, e.stderr
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := e.ns.Start(e.cmd, netns.StartOptions{NewMount: true}); err != nil {
		return err
	}
	go func() { e.cmd.Wait(); close(e.done) }()
	e.Socket = "/proc/" + strconv.Itoa(e.cmd.Process.Pid) + "/root" + runDir + "/docker.sock"
	return e.waitReady(ctx, 60*time.Second)
}

// plumb gives the engine's namespace the lab host's address on eth0 (a
// veth whose peer is in a namespace of its own: this kernel has no dummy
// links), a default route and lo up.
//
// Equivalent to: sysctl -w net.ipv6.conf.{all,default}.accept_dad=0 (as
// in the lab's world); ip link add eth0 type veth peer name lan netns PEER;
// ip addr add 192.168.190.128/24 dev eth0; ip addr add
// 2001:db8:190::128/64 dev eth0 nodad; ip link set eth0 up; ip route add
// default via 192.168.190.2; ip -6 route add default via 2001:db8:190::2
func plumb(ns, peer *netns.NS) error {
	for _, conf := range []string{"all", "default"} {
		if err := ns.WriteSysctl("net/ipv6/conf/"+conf+"/accept_dad", "0"); err != nil {
			return err
		}
	}
	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		return fmt.Errorf("opening netlink in the engine's namespace: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("setting lo up: %w", err)
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "lan", PeerNamespace: netlink.NsFd(peer.Fd())}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("adding eth0: %w", err)
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("finding eth0: %w", err)
	}
	for _, p := range []netip.Prefix{HostAddr, HostAddr6} {
		addr, _ := netlink.ParseAddr(p.String())
		if p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(eth0, addr); err != nil {
			return fmt.Errorf("adding %s: %w", p, err)
		}
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("setting eth0 up: %w", err)
	}
	for _, gw := range []netip.Addr{Gateway, Gateway6} {
		if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gw.AsSlice()}); err != nil {
			return fmt.Errorf("adding the default route via %s: %w", gw, err)
		}
	}
	return nil
}

// serveLabResolver makes peer the lab's gateway, on the LAN side, and its
// resolver, so that the engine's resolvers forward as labrun's do: lan gets
// the gateway's address, lo the resolver's, and the lab's zone is served
// there (world.Zone).
//
// Equivalent to: ip -n PEER addr add 192.168.190.2/24 dev lan; ip -n PEER
// addr add 2001:db8:190::2/64 dev lan nodad; ip -n PEER addr add
// 203.0.113.10/32 dev lo; a name server on 203.0.113.10:53
func serveLabResolver(peer *netns.NS) (io.Closer, error) {
	h, err := netlink.NewHandleAt(peer.Handle())
	if err != nil {
		return nil, fmt.Errorf("opening netlink in the engine's peer: %w", err)
	}
	defer h.Close()
	for _, a := range []struct {
		dev  string
		addr netip.Prefix
	}{{"lan", world.GatewayLAN}, {"lan", world.GatewayLAN6}, {"lo", netip.PrefixFrom(world.Resolver, 32)}} {
		l, err := h.LinkByName(a.dev)
		if err == nil {
			na, _ := netlink.ParseAddr(a.addr.String())
			if a.addr.Addr().Is6() {
				na.Flags = unix.IFA_F_NODAD
			}
			if err = h.AddrAdd(l, na); err == nil {
				err = h.LinkSetUp(l)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("adding %s to the peer's %s: %w", a.addr, a.dev, err)
		}
	}
	z, err := world.ServeResolver(peer, nil)
	if err != nil {
		return nil, err
	}
	return z, nil
}

// waitReady waits until the engine answers /_ping, or it died, or the
// deadline passed.
func (e *Engine) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ping(e.Socket) == nil {
			// The engine that answers is this one, not another's.
			v, err := e.Get("/version")
			if err != nil || !strings.Contains(v, `"Version": "`+e.Version+`"`) {
				return fmt.Errorf("the engine at %s is not Docker %s: %v %s", e.Socket, e.Version, err, v)
			}
			return nil
		}
		select {
		case <-e.done:
			return fmt.Errorf("dockerd exited: %s", lastLines(e.stderr.String(), 5))
		case <-ctx.Done():
			return fmt.Errorf("dockerd did not answer within %s: %s", limit, lastLines(e.stderr.String(), 5))
		case <-tick.C:
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Log is what the engine printed so far.
func (e *Engine) Log() string { return e.stderr.String() }

// Host is the value of DOCKER_HOST that reaches the engine.
func (e *Engine) Host() string { return "unix://" + e.Socket }

// PID is the process ID, in the caller's PID namespace, of the engine's
// PID 1 (the sh that runs dockerd): the root of every process the engine
// runs (dockerd, containerd, the shims, docker-proxy, the containers), for
// a benchmark that adds up their memory and CPU time; 0 before Start.
func (e *Engine) PID() int {
	if e.cmd == nil || e.cmd.Process == nil {
		return 0
	}
	return e.cmd.Process.Pid
}

// Docker returns a docker CLI command against the engine.
func (e *Engine) Docker(args ...string) *exec.Cmd {
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.Host(), "DOCKER_CONTEXT=")
	return cmd
}

// Output runs a command in the engine's network namespace (iptables-save,
// nft list ruleset) and returns its output.
//
// Equivalent to: nsenter --net=/proc/PID/ns/net -- ARGS
func (e *Engine) Output(args ...string) ([]byte, error) {
	var out, stderr bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := e.ns.Start(cmd, netns.StartOptions{}); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// Close kills the engine's namespaces' PID 1 (the kernel kills the rest of
// them) and removes the engine's cgroups.
func (e *Engine) Close() error {
	if e.cmd != nil && e.cmd.Process != nil {
		e.cmd.Process.Kill()
		<-e.done
	}
	if e.ns != nil {
		e.ns.Close()
	}
	if e.zone != nil {
		e.zone.Close()
	}
	if e.peer != nil {
		e.peer.Close()
	}
	removeCgroups(e.cgroup)
	return nil
}
