package bench

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	assert.Equal(t, "labrun,shell,cni", strings.Join(cfg.methods, ","), "default methods %v", cfg.methods)
	cfg, err = parseFlags([]string{"-quick", "-methods", "shell,labrun"}, io.Discard)
	require.NoError(t, err)
	if assert.Len(t, cfg.sizes, 2, "-quick: sizes") {
		assert.Equal(t, 100, cfg.sizes[1], "-quick: sizes %v", cfg.sizes)
	}
	assert.Equal(t, []string{"shell", "labrun"}, cfg.methods, "-quick: methods")
	for _, bad := range [][]string{{"-n", "0"}, {"-n", "x"}, {"-methods", "docker"}, {"-up-parallel", "0"}, {"extra"}} {
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
	code := Main([]string{"-n", "3", "-methods", "labrun,shell", "-lab-starts", "1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "labrun at N=3: up ") || !strings.Contains(last, "faster than shell") {
		t.Errorf("last line: %q\n%s", last, out.String())
	}
	t.Log("\n" + out.String())
}
