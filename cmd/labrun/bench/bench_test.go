package bench

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	if assert.Len(t, cfg.sizes, 3, "default sizes") {
		assert.Equal(t, 10, cfg.sizes[0], "default sizes %v", cfg.sizes)
		assert.Equal(t, 1000, cfg.sizes[2], "default sizes %v", cfg.sizes)
	}
	assert.Equal(t, "labrun,shell,cni,docker,floor", strings.Join(cfg.methods, ","), "default methods %v", cfg.methods)
	assert.Equal(t, "28.5.2", cfg.dockerVersion, "default engine")
	assert.Equal(t, 100, cfg.dockerMax, "default -docker-max")
	cfg, err = parseFlags([]string{"-quick", "-methods", "shell,labrun"}, io.Discard)
	require.NoError(t, err)
	if assert.Len(t, cfg.sizes, 2, "-quick: sizes") {
		assert.Equal(t, 100, cfg.sizes[1], "-quick: sizes %v", cfg.sizes)
	}
	assert.Equal(t, []string{"shell", "labrun"}, cfg.methods, "-quick: methods")
	for _, bad := range [][]string{{"-n", "0"}, {"-n", "x"}, {"-methods", "podman"}, {"-up-parallel", "0"}, {"extra"}} {
		_, err := parseFlags(bad, io.Discard)
		assert.Error(t, err, "%q accepted", bad)
	}
	assert.Equal(t, 2, Main([]string{"-methods", "nope"}, io.Discard, io.Discard), "bad usage: exit")
}

// TestScripts: the shell method's script is the course's commands, with
// Docker's exact per-port rules, and its tear-down mirrors it.
func TestScripts(t *testing.T) {
	up := upScript("lbx", 2)
	for _, want := range []string{
		"ip netns add lbxc1\n",
		"ip link add lbxv1 type veth peer name eth0 netns lbxc1\n",
		"ip link set lbxv1 master docker0\n",
		"ip -n lbxc1 addr add 172.17.0.3/16 dev eth0\n",
		"ip -n lbxc1 route add default via 172.17.0.1\n",
		"iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 20001 -j DNAT --to-destination 172.17.0.3:80\n",
		"iptables -A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT\n",
		"iptables -t nat -A POSTROUTING -s 172.17.0.3/32 -d 172.17.0.3/32 -p tcp -m tcp --dport 80 -j MASQUERADE\n",
	} {
		assert.Contains(t, up, want, "up script lacks")
	}
	if got := strings.Count(up, "\n"); got != 2*10 {
		t.Errorf("up script: %d commands for 2 containers, want 20", got)
	}
	down := downScript("lbx", 2)
	if !strings.Contains(down, "iptables -t nat -D DOCKER ! -i docker0 -p tcp -m tcp --dport 20000 -j DNAT --to-destination 172.17.0.2:80\n") ||
		!strings.Contains(down, "ip netns del lbxc0\n") {
		t.Errorf("down script:\n%s", down)
	}
}

// TestSmoke runs the labrun and shell methods on tiny labs (the cni method
// needs the plugins installed from the network).
func TestSmoke(t *testing.T) {
	testkit.RequireNetAdmin(t)
	var out, errb bytes.Buffer
	code := Main([]string{"-n", "3", "-methods", "labrun,shell", "-lab-starts", "1", "-lines", "3,6", "-line-runs", "1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "labrun at N=3: up ") || !strings.Contains(last, "faster than shell") {
		t.Errorf("last line: %q\n%s", last, out.String())
	}
	if !regexp.MustCompile(`(?m)^world of N routers in a line .*: N=3 up [0-9.]+ ms/node .*; N=6 up [0-9.]+ ms/node `).MatchString(out.String()) {
		t.Errorf("no line worlds' figure:\n%s", out.String())
	}
	t.Log("\n" + out.String())
}

// TestFloor: the floor's containers are what the brief of the method says
// (a namespace each with eth0 up, its address, the default route and IPv6
// off, lo up; the host end a port of docker0, up), with nothing else in the
// scratch host, and down leaves no veth.
func TestFloor(t *testing.T) {
	testkit.RequireNetAdmin(t)
	f, err := newFloorLab(2)
	require.NoError(t, err)
	defer f.close()
	require.NoError(t, f.up(3, 2))
	require.Len(t, f.ctrs, 3)

	// The handle's sockets hold the namespace: closed before down.
	h, err := link.OpenHandle(f.ctrs[1])
	require.NoError(t, err)
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	require.NoError(t, err)
	assert.Equal(t, "veth", eth.Type())
	assert.NotZero(t, eth.Attrs().Flags&net.FlagUp, "eth0 is up")
	addrs, err := h.AddrList(eth, netlink.FAMILY_ALL)
	require.NoError(t, err)
	if assert.Len(t, addrs, 1, "eth0's addresses (IPv6 off: no link-local)") {
		assert.Equal(t, "172.17.0.3/16", addrs[0].IPNet.String())
	}
	routes, err := h.RouteList(eth, netlink.FAMILY_V4)
	require.NoError(t, err)
	var gw []string
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			gw = append(gw, r.Gw.String())
		}
	}
	assert.Equal(t, []string{"172.17.0.1"}, gw, "the default route")
	v6, err := f.ctrs[1].ReadSysctl("net/ipv6/conf/eth0/disable_ipv6")
	if err == nil {
		assert.Equal(t, "1", v6, "eth0's IPv6 is off")
		def, err := f.ctrs[1].ReadSysctl("net/ipv6/conf/default/disable_ipv6")
		require.NoError(t, err)
		assert.Equal(t, "0", def, "the namespace's default is put back")
	}
	lo, err := h.LinkByName("lo")
	require.NoError(t, err)
	assert.NotZero(t, lo.Attrs().Flags&net.FlagUp, "lo is up")

	host, err := f.host.nl.LinkByName("fv1")
	require.NoError(t, err)
	assert.Equal(t, f.bridge, host.Attrs().MasterIndex, "fv1 is a port of docker0")
	assert.NotZero(t, host.Attrs().Flags&net.FlagUp, "fv1 is up")
	n, err := f.host.veths()
	require.NoError(t, err)
	assert.Equal(t, 3, n, "veths in the scratch host")

	h.Close()
	require.NoError(t, f.down(2))
	n, err = f.host.veths()
	require.NoError(t, err)
	assert.Zero(t, n, "veths left after down")
	for _, ns := range f.ctrs {
		assert.Nil(t, ns, "a namespace left open")
	}
}

// TestFloorSummary: the floor method runs from the command line, and the
// summary line says how many times the floor's time labrun takes.
func TestFloorSummary(t *testing.T) {
	testkit.RequireNetAdmin(t)
	var out, errb bytes.Buffer
	code := Main([]string{"-n", "3", "-methods", "labrun,floor", "-lab-starts", "0"}, &out, &errb)
	require.Equal(t, 0, code, "exit\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.Regexp(t, `(?m)^floor +3 +[0-9.]+ +[0-9.]+ +0 \(none\)`, out.String())
	assert.Regexp(t, `(?m)^labrun at N=3: up [0-9.]+ ms/container, down [0-9.]+ ms/container, [0-9.]+× the floor$`, out.String())
}

// TestDockerSkipped: without an engine the docker column is skipped with
// its reason, and the benchmark still succeeds.
func TestDockerSkipped(t *testing.T) {
	testkit.RequireNetAdmin(t)
	t.Setenv("ORACLE_DIR", t.TempDir())
	var out, errb bytes.Buffer
	code := Main([]string{"-n", "2", "-methods", "docker,floor"}, &out, &errb)
	require.Equal(t, 0, code, "exit\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.Contains(t, out.String(), "docker: skipped: no Docker 28.5.2 engine in ")
	assert.NotRegexp(t, `(?m)^docker `, out.String(), "a docker row")
	assert.Regexp(t, `(?m)^floor +2 `, out.String())
}

// TestDocker runs the docker method against a real engine (skipped without
// one): two containers up and down, the engine's processes counted, and
// the summary line's comparison; at N above -docker-max it does not run.
func TestDocker(t *testing.T) {
	testkit.RequireNetAdmin(t)
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	if why := dockerSkip(cfg); why != "" {
		t.Skipf("skipping: %s", why)
	}
	r := benchDocker(cfg, 2)
	require.NoError(t, r.err)
	assert.Positive(t, r.up, "up")
	assert.Positive(t, r.down, "down")
	assert.Positive(t, r.cpu, "CPU")
	assert.Greater(t, r.procs, 4, "the engine's processes: sh, dockerd, containerd, a shim and a container each…")

	var out, errb bytes.Buffer
	code := Main([]string{"-n", "1,2", "-docker-max", "1", "-methods", "labrun,docker", "-lab-starts", "0"}, &out, &errb)
	require.Equal(t, 0, code, "exit\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.Regexp(t, `(?m)^docker +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ `, out.String())
	assert.NotRegexp(t, `(?m)^docker +2 `, out.String(), "docker ran above -docker-max")
	assert.Contains(t, out.String(), "docker: not run at N=2 (above -docker-max 1")
	assert.Regexp(t, `(?m)^labrun at N=2: .*, [0-9.]+× faster than Docker 28\.5\.2 at N=1$`, out.String())
}
