package fidelity

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/go-connections/nat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
	"github.com/labrun/labrun/netkit/ports"
)

// dockerOrder is the order in which Docker 20.10 takes a container's
// bindings (moby 20.10 daemon/network.go, buildCreateEndpointOptions): its
// ports collected by ranging over a Go map, then sorted with go-connections
// v0.4.0's nat.SortPortMap, the version Docker 20.10 vendors.
func dockerOrder(bindings nat.PortMap) string {
	var list []nat.Port
	for p := range bindings {
		list = append(list, p)
	}
	nat.SortPortMap(list, bindings)
	s := ""
	for _, p := range list {
		for _, b := range bindings[p] {
			s += b.HostPort + ":" + string(p) + " "
		}
	}
	return s
}

// labrunOrder is netkit/ports' SortPortMap on the same bindings, given in
// the command line's order.
func labrunOrder(in []ports.Binding) string {
	bs := append([]ports.Binding(nil), in...)
	ports.SortPortMap(bs)
	s := ""
	for _, b := range bs {
		host := ""
		if b.HostPort != 0 {
			host = strconv.Itoa(int(b.HostPort))
		}
		s += host + ":" + b.Container.String() + " "
	}
	return s
}

// TestDocker2010Nondeterminism shows, with Docker 20.10's own sort, which
// differences of the machine's 20.10 engine are its nondeterminism
// (docs/fidelity.md): -p 10111:22 -p 801:80 (publish_article) comes out in
// both orders over runs, as the engine's rules did, and labrun's order is
// one of them; -p 9800-9803:80-83 and -P with EXPOSE 80 and 443 come out in
// one order only, which labrun reproduces.
func TestDocker2010Nondeterminism(t *testing.T) {
	tcp := func(host, ctr uint16) ports.Binding {
		return ports.Binding{Container: ports.Port{Num: ctr, Proto: ports.TCP}, HostPort: host}
	}
	for _, tc := range []struct {
		name   string
		docker func() nat.PortMap
		labrun []ports.Binding
		orders int
	}{
		{"publish_article", func() nat.PortMap {
			return nat.PortMap{"22/tcp": {{HostPort: "10111"}}, "80/tcp": {{HostPort: "801"}}}
		}, []ports.Binding{tcp(10111, 22), tcp(801, 80)}, 2},
		{"publish_range_pairs", func() nat.PortMap {
			m := nat.PortMap{}
			for i := 0; i < 4; i++ {
				m[nat.Port(fmt.Sprintf("%d/tcp", 80+i))] = []nat.PortBinding{{HostPort: strconv.Itoa(9800 + i)}}
			}
			return m
		}, []ports.Binding{tcp(9800, 80), tcp(9801, 81), tcp(9802, 82), tcp(9803, 83)}, 1},
		{"publish_all_expose", func() nat.PortMap {
			return nat.PortMap{"80/tcp": {{HostPort: ""}}, "443/tcp": {{HostPort: ""}}}
		}, []ports.Binding{tcp(0, 80), tcp(0, 443)}, 1},
	} {
		seen := map[string]bool{}
		for i := 0; i < 500; i++ {
			seen[dockerOrder(tc.docker())] = true
		}
		assert.Len(t, seen, tc.orders, "%s: Docker 20.10's orders over 500 runs: %v", tc.name, seen)
		assert.True(t, seen[labrunOrder(tc.labrun)], "%s: labrun's order %q is one of Docker's %v", tc.name, labrunOrder(tc.labrun), seen)
	}
}

// TestDocker2010PoolRoundRobin shows why usernet_default_pool can differ
// from the machine's 20.10 engine: before 27 the engine hands out its
// default pools round-robin over its lifetime (docs/docker.md §3.2), so a
// network created, removed and created again gets the next subnet, where
// a fresh labrun engine (and Docker 27 and later) gives the first free one
// again. It needs the machine's engine (LABRUN_FIDELITY=1).
func TestDocker2010PoolRoundRobin(t *testing.T) {
	var v Versions
	for _, tg := range targets(t) {
		if tg.Machine() {
			v = tg.Versions
		}
	}
	if major(v.Server) != "20" {
		t.Skipf("skipping: the machine's engine is not Docker 20.10 (%q)", v.Server)
	}
	prefix := "fid" + randHex(3) + "-"
	t.Cleanup(func() { Clean(prefix) })
	subnet := func() string {
		r := Real{}.docker("network", "create", prefix+"net")
		require.Equal(t, 0, r.code, r.String())
		r = Real{}.docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", prefix+"net")
		require.Equal(t, 0, r.code, r.String())
		Real{}.docker("network", "rm", prefix+"net")
		return strings.TrimSpace(r.stdout)
	}
	first, second := subnet(), subnet()
	assert.NotEqual(t, first, second, "Docker 20.10 moves on to the next pool after a network is removed")
}

// TestDockerConflictText shows why conflict_port publishes its second
// container on 0.0.0.0 only: when both of a binding's addresses (0.0.0.0
// and ::) are taken, Docker 28 and 29 name whichever their allocator
// tries first, over a Go map, so `docker run -p 8080:80` twice fails with
// "Bind for 0.0.0.0:8080 failed" in some runs and "Bind for :::8080
// failed" in others, on one engine. labrun names 0.0.0.0.
func TestDockerConflictText(t *testing.T) {
	targets(t)
	vs := oracle.Available("")
	if len(vs) == 0 {
		t.Skip("skipping: no oracle engine (make oracle)")
	}
	e, err := oracle.Start(context.Background(), oracle.Options{Version: vs[0]})
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, oracle.Import(e.Docker, caseImage, "EXPOSE 80/tcp"))
	out, err := e.Docker("run", "-d", "--name", "first", "-p", "8080:80", caseImage, "busybox", "sleep", "3600").CombinedOutput()
	require.NoError(t, err, "%s", out)
	seen := map[string]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		name := fmt.Sprintf("second%d", i)
		out, _ := e.Docker("run", "-d", "--name", name, "-p", "8080:80", caseImage, "busybox", "sleep", "3600").CombinedOutput()
		for _, s := range []string{"Bind for 0.0.0.0:8080 failed", "Bind for :::8080 failed"} {
			if strings.Contains(string(out), s) {
				seen[s] = true
			}
		}
		e.Docker("rm", "-f", name).Run()
	}
	assert.Len(t, seen, 2, "Docker %s names either address: %v", vs[0], seen)
}
