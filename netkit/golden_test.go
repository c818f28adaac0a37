package netkit_test

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
)

var update = flag.Bool("update", false, "rewrite golden files")

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// iptablesSave dumps the host's raw, filter and nat tables as iptables-save
// prints them, one table after the other, without comments and counters.
func iptablesSave(t *testing.T, lab *netkit.Lab) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"raw", "filter", "nat"} {
		out, err := lab.Host().Output("iptables-save", "-t", table)
		require.NoError(t, err)
		for _, line := range strings.SplitAfter(string(out), "\n") {
			if strings.HasPrefix(line, "#") || line == "" {
				continue
			}
			b.WriteString(counters.ReplaceAllString(line, "[0:0]"))
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "../testdata/netkit/" + name
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

// TestGoldenPublish8080 checks that after -p 8080:80 on a fresh engine the
// host's rules equal Docker 20.10–27's (docs/docker.md §1.2 (a)), and that removing
// the container leaves only the engine's own chains.
func TestGoldenPublish8080(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{HostIPForwardOff: true}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	golden(t, "iptables-27-p8080.golden", iptablesSave(t, lab))
	require.NoError(t, e.Remove("web", true))
	golden(t, "iptables-27-engine.golden", iptablesSave(t, lab))
}

// TestGoldenDefaultWorld: in the classroom world the host already forwards,
// so Docker leaves the FORWARD policy at ACCEPT.
func TestGoldenDefaultWorld(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	golden(t, "iptables-27-world-p801.golden", iptablesSave(t, lab))
}
