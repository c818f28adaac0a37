package oracle

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/proc"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		child()
		return
	}
	testkit.Main(m)
}

// requireEngine skips unless the machine can make namespaces, has the docker
// CLI and busybox, and `make oracle` built an engine; it returns the oldest.
func requireEngine(t *testing.T) string {
	t.Helper()
	testkit.RequireNetAdmin(t)
	testkit.RequireBinary(t, "docker", "busybox", "unshare")
	vs := Available("")
	if len(vs) == 0 {
		t.Skipf("skipping: no engine in %s (make oracle builds them)", DefaultDir())
	}
	return vs[0]
}

// rootState is what an engine must not change: the root namespace's links,
// addresses, routes, rules and sysctls, and the namespaces processes hold.
func rootState(t *testing.T) testkit.Snapshot {
	t.Helper()
	root, err := netns.Open("/proc/self/ns/net")
	require.NoError(t, err)
	defer root.Close()
	s, err := testkit.NSState(root, testkit.StateOptions{IPTables: true})
	require.NoError(t, err)
	// What the machine's own Docker Engine does meanwhile (make
	// fidelity's machine cases) is its own: its bridges, veths, chains
	// and their rules, as rootguard -ignore-docker leaves them out.
	var out testkit.Snapshot
	for _, line := range append(s, testkit.HeldNamespaces()...) {
		if !machineDocker.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

var machineDocker = regexp.MustCompile(`\b(docker0|br-[0-9a-f]{12}|veth[0-9a-f]+|DOCKER[A-Z0-9-]*)\b|172\.1[6-9]\.|10\.99\.`)

// TestEngine: an engine starts in its own namespaces with the lab host's
// address, runs a published container from an imported image, shows its
// rules only inside, and leaves nothing when closed.
func TestEngine(t *testing.T) {
	v := requireEngine(t)
	before := rootState(t)
	e, err := Start(context.Background(), Options{Version: v})
	require.NoError(t, err)
	out, err := e.Docker("version", "--format", "{{.Server.Version}}").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, v, strings.TrimSpace(string(out)))

	require.NoError(t, Import(e.Docker, "oracle-test:1", "EXPOSE 80/tcp"))
	out, err = e.Docker("run", "-d", "--name", "web", "-p", "8080:80", "oracle-test:1", "busybox", "sleep", "60").CombinedOutput()
	require.NoError(t, err, "%s\n%s", out, e.Log())
	save, err := e.Output("iptables-save")
	require.NoError(t, err)
	assert.Contains(t, string(save), "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT")
	assert.Contains(t, string(save), ":FORWARD DROP", "a fresh Docker host does not forward")
	addr, err := e.Output("ip", "-4", "-o", "addr", "show", "eth0")
	require.NoError(t, err)
	assert.Contains(t, string(addr), HostAddr.String())
	js, err := e.Get("/containers/web/json")
	require.NoError(t, err)
	assert.Contains(t, js, `"HostPort": "8080"`)

	pid := e.PID()
	var comms []string
	for _, p := range proc.Descendants([]int{pid}) {
		if st, err := proc.ReadStat(p); err == nil {
			comms = append(comms, st.Comm)
		}
	}
	assert.Contains(t, comms, "dockerd", "PID is the root of the engine's processes")
	require.NoError(t, e.Close())
	assert.NoDirExists(t, "/proc/"+strconv.Itoa(pid), "the engine's PID 1 is gone")
	assertNoCgroups(t, e.cgroup)
	testkit.AssertUnchanged(t, before, rootState(t), "the root namespace and held namespaces")
}

// TestNFTables: Docker 29 with nftables refuses a host that does not
// forward, and starts on one that does, with its rules in nft only.
func TestNFTables(t *testing.T) {
	requireEngine(t)
	if len(Available("")) < 2 {
		t.Skip("skipping: no Docker 29 in the oracle directory")
	}
	_, err := Start(context.Background(), Options{Version: "29.8.1", Backend: NFTables})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "IPv4 forwarding is disabled")
	e, err := Start(context.Background(), Options{Version: "29.8.1", Backend: NFTables, IPForward: true})
	require.NoError(t, err)
	defer e.Close()
	rules, err := e.Output("nft", "list", "ruleset")
	require.NoError(t, err)
	assert.Contains(t, string(rules), "table ip docker-bridges")
}

func assertNoCgroups(t *testing.T, name string) {
	t.Helper()
	for _, h := range hierarchies() {
		assert.NoDirExists(t, filepath.Join(h, name))
	}
}

// childEnv makes the test binary a process that starts an engine, says
// "ready NAME" and waits to be killed (TestKilled).
const childEnv = "ORACLE_TEST_CHILD"

func child() {
	e, err := Start(context.Background(), Options{Version: os.Getenv(childEnv)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	// A running container, so that runc made cgroups below the parent.
	if err := Import(e.Docker, "oracle-test:1"); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if out, err := e.Docker("run", "-d", "-p", "8080:80", "oracle-test:1", "busybox", "sleep", "3600").CombinedOutput(); err != nil {
		fmt.Println("error", err, string(out))
		os.Exit(1)
	}
	fmt.Println("ready", e.cgroup, e.cmd.Process.Pid)
	time.Sleep(time.Hour)
}

// TestKilled: a kill -9 of the process that started an engine leaves no
// process, namespace or root-namespace change, and the next Start removes
// the cgroup parent it could not.
func TestKilled(t *testing.T) {
	v := requireEngine(t)
	before := rootState(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+v)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var word, cgroup string
	var pid int
	_, err = fmt.Fscan(bufio.NewReader(out), &word, &cgroup, &pid)
	require.NoError(t, err)
	require.Equal(t, "ready", word, "the child started an engine")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	require.Eventually(t, func() bool {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		return os.IsNotExist(err)
	}, 10*time.Second, 10*time.Millisecond, "the engine's PID 1 dies with the test")
	require.Eventually(t, func() bool {
		return len(testkit.Changes(before, rootState(t))) == 0
	}, 10*time.Second, 10*time.Millisecond, "the engine's namespaces die with it")

	sweepCgroups()
	assertNoCgroups(t, cgroup)
}
