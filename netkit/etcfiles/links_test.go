package etcfiles

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

func tcp(n uint16) ports.Port  { return ports.Port{Num: n, Proto: ports.TCP} }
func udp(n uint16) ports.Port  { return ports.Port{Num: n, Proto: ports.UDP} }
func sctp(n uint16) ports.Port { return ports.Port{Num: n, Proto: ports.SCTP} }

// TestLinkEnvFacts checks the project's facts (§1.9): child w (172.17.0.2,
// --expose 80, -e GREETING=hello) linked as web into c, checked against
// real 28.5.2 (exactly these 7 variables) and 29.8.1 (none).
func TestLinkEnvFacts(t *testing.T) {
	want := []string{
		"WEB_PORT=tcp://172.17.0.2:80",
		"WEB_PORT_80_TCP=tcp://172.17.0.2:80",
		"WEB_PORT_80_TCP_ADDR=172.17.0.2",
		"WEB_PORT_80_TCP_PORT=80",
		"WEB_PORT_80_TCP_PROTO=tcp",
		"WEB_NAME=/c/web",
		"WEB_ENV_GREETING=hello",
	}
	env := []string{"PATH=/usr/local/sbin:/usr/bin", "GREETING=hello", "HOME=/root", "NOVALUE"}
	child := netip.MustParseAddr("172.17.0.2")
	for _, r := range []release.Release{r2010, r27, r28} {
		assert.Equal(t, want, LinkEnv(r, "web", "/c", child, []ports.Port{tcp(80)}, env), "%+v", r)
		assert.Equal(t, want, LinkEnv(r, "web", "c", child, []ports.Port{tcp(80)}, env), "%+v", r)
	}
	assert.Nil(t, LinkEnv(r29, "web", "/c", child, []ports.Port{tcp(80)}, env))
	assert.Nil(t, LinkEnv(release.Release{Era: release.Era29, APIVersion: "1.56"}, "web", "/c", child, nil, nil))
}

// TestLinkEnvRanges checks the two orders of ToEnv with ranges: 28's, where
// a run's _START and _END follow the port that ends it (here 1/sctp), and
// 27's. moby's own tests sort the variables; their sets are checked too.
func TestLinkEnvRanges(t *testing.T) {
	child := netip.MustParseAddr("172.0.17.2")
	exposed := []ports.Port{udp(6381), tcp(6381), tcp(6380), tcp(6379), sctp(1)}
	want28 := []string{
		"DOCKER_PORT=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6379_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6379_TCP_PORT=6379",
		"DOCKER_PORT_6379_TCP_PROTO=tcp",
		"DOCKER_PORT_6380_TCP=tcp://172.0.17.2:6380",
		"DOCKER_PORT_6380_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6380_TCP_PORT=6380",
		"DOCKER_PORT_6380_TCP_PROTO=tcp",
		"DOCKER_PORT_6381_TCP=tcp://172.0.17.2:6381",
		"DOCKER_PORT_6381_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6381_TCP_PORT=6381",
		"DOCKER_PORT_6381_TCP_PROTO=tcp",
		"DOCKER_PORT_1_SCTP=sctp://172.0.17.2:1",
		"DOCKER_PORT_1_SCTP_ADDR=172.0.17.2",
		"DOCKER_PORT_1_SCTP_PORT=1",
		"DOCKER_PORT_1_SCTP_PROTO=sctp",
		"DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6379_TCP_PORT_START=6379",
		"DOCKER_PORT_6379_TCP_END=tcp://172.0.17.2:6381",
		"DOCKER_PORT_6379_TCP_PORT_END=6381",
		"DOCKER_PORT_6381_UDP=udp://172.0.17.2:6381",
		"DOCKER_PORT_6381_UDP_ADDR=172.0.17.2",
		"DOCKER_PORT_6381_UDP_PORT=6381",
		"DOCKER_PORT_6381_UDP_PROTO=udp",
		"DOCKER_NAME=/db/docker",
	}
	assert.Equal(t, want28, LinkEnv(r28, "docker", "/db", child, exposed, nil))

	// 27: sorted by number, tcp first for one number: 1/sctp, 6379/tcp,
	// 6380/tcp, 6381/tcp, 6381/udp; the run 6379–6381 (numbers only) ends
	// at the last port of 6381, named after its protocol.
	want27 := []string{
		"DOCKER_PORT=sctp://172.0.17.2:1",
		"DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6379_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6379_TCP_PROTO=tcp",
		"DOCKER_PORT_6379_TCP_PORT_START=6379",
		"DOCKER_PORT_6379_UDP_END=udp://172.0.17.2:6381",
		"DOCKER_PORT_6379_UDP_PORT_END=6381",
		"DOCKER_PORT_1_SCTP=sctp://172.0.17.2:1",
		"DOCKER_PORT_1_SCTP_ADDR=172.0.17.2",
		"DOCKER_PORT_1_SCTP_PORT=1",
		"DOCKER_PORT_1_SCTP_PROTO=sctp",
		"DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6379_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6379_TCP_PORT=6379",
		"DOCKER_PORT_6379_TCP_PROTO=tcp",
		"DOCKER_PORT_6380_TCP=tcp://172.0.17.2:6380",
		"DOCKER_PORT_6380_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6380_TCP_PORT=6380",
		"DOCKER_PORT_6380_TCP_PROTO=tcp",
		"DOCKER_PORT_6381_TCP=tcp://172.0.17.2:6381",
		"DOCKER_PORT_6381_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6381_TCP_PORT=6381",
		"DOCKER_PORT_6381_TCP_PROTO=tcp",
		"DOCKER_PORT_6381_UDP=udp://172.0.17.2:6381",
		"DOCKER_PORT_6381_UDP_ADDR=172.0.17.2",
		"DOCKER_PORT_6381_UDP_PORT=6381",
		"DOCKER_PORT_6381_UDP_PROTO=udp",
		"DOCKER_NAME=/db/docker",
	}
	assert.Equal(t, want27, LinkEnv(r27, "docker", "/db", child, exposed, nil))
	assert.Equal(t, want27, LinkEnv(r2010, "docker", "/db", child, exposed, nil))
}

// TestMobyLinkMultipleEnv is moby/moby v28.5.2 daemon/links/links_test.go
// TestLinkMultipleEnv (which sorts the variables), and the same ports in
// 27, whose run of numbers goes on into 6382/udp.
func TestMobyLinkMultipleEnv(t *testing.T) {
	exposed := []ports.Port{udp(6300), tcp(6379), tcp(6380), tcp(6381), udp(6382)}
	got := LinkEnv(r28, "docker", "/db", netip.MustParseAddr("172.0.17.2"), exposed, []string{"PASSWORD=gordon"})
	slices.Sort(got)
	assert.Equal(t, []string{
		"DOCKER_ENV_PASSWORD=gordon", "DOCKER_NAME=/db/docker", "DOCKER_PORT=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6300_UDP=udp://172.0.17.2:6300", "DOCKER_PORT_6300_UDP_ADDR=172.0.17.2",
		"DOCKER_PORT_6300_UDP_PORT=6300", "DOCKER_PORT_6300_UDP_PROTO=udp",
		"DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379", "DOCKER_PORT_6379_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6379_TCP_END=tcp://172.0.17.2:6381", "DOCKER_PORT_6379_TCP_PORT=6379",
		"DOCKER_PORT_6379_TCP_PORT_END=6381", "DOCKER_PORT_6379_TCP_PORT_START=6379",
		"DOCKER_PORT_6379_TCP_PROTO=tcp", "DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379",
		"DOCKER_PORT_6380_TCP=tcp://172.0.17.2:6380", "DOCKER_PORT_6380_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6380_TCP_PORT=6380", "DOCKER_PORT_6380_TCP_PROTO=tcp",
		"DOCKER_PORT_6381_TCP=tcp://172.0.17.2:6381", "DOCKER_PORT_6381_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6381_TCP_PORT=6381", "DOCKER_PORT_6381_TCP_PROTO=tcp",
		"DOCKER_PORT_6382_UDP=udp://172.0.17.2:6382", "DOCKER_PORT_6382_UDP_ADDR=172.0.17.2",
		"DOCKER_PORT_6382_UDP_PORT=6382", "DOCKER_PORT_6382_UDP_PROTO=udp",
	}, got)

	got = LinkEnv(r27, "docker", "/db", netip.MustParseAddr("172.0.17.2"), exposed, []string{"PASSWORD=gordon"})
	assert.Equal(t, []string{
		"DOCKER_PORT=udp://172.0.17.2:6300",
		"DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379", "DOCKER_PORT_6379_TCP_ADDR=172.0.17.2",
		"DOCKER_PORT_6379_TCP_PROTO=tcp", "DOCKER_PORT_6379_TCP_PORT_START=6379",
		"DOCKER_PORT_6379_UDP_END=udp://172.0.17.2:6382", "DOCKER_PORT_6379_UDP_PORT_END=6382",
	}, got[:7])
	assert.Equal(t, []string{"DOCKER_NAME=/db/docker", "DOCKER_ENV_PASSWORD=gordon"}, got[len(got)-2:])
	assert.Len(t, got, 7+5*4+2)
}

// TestMobySortPorts is moby/moby v28.5.2 daemon/links/links_test.go
// TestSortPorts, read through the variables' order.
func TestMobySortPorts(t *testing.T) {
	exposed := []ports.Port{tcp(6379), udp(6376), tcp(6380), sctp(6376), tcp(6381), udp(6381), udp(6375), sctp(6375)}
	var order []string
	for _, v := range LinkEnv(r28, "x", "/p", netip.MustParseAddr("10.0.0.2"), exposed, nil) {
		if k, _, _ := strings.Cut(v, "="); strings.Count(k, "_") == 3 {
			order = append(order, k)
		}
	}
	assert.Equal(t, []string{"X_PORT_6379_TCP", "X_PORT_6380_TCP", "X_PORT_6381_TCP", "X_PORT_6375_SCTP",
		"X_PORT_6376_SCTP", "X_PORT_6375_UDP", "X_PORT_6376_UDP", "X_PORT_6381_UDP"}, order)
}

func TestLinkEnvAlias(t *testing.T) {
	env := LinkEnv(r28, "my-db", "/app", netip.MustParseAddr("172.17.0.5"), nil, []string{"A=b=c"})
	assert.Equal(t, []string{"MY_DB_NAME=/app/my-db", "MY_DB_ENV_A=b=c"}, env)
	// Docker's exposed ports are a set.
	env = LinkEnv(r28, "x", "/p", netip.MustParseAddr("172.17.0.5"), []ports.Port{tcp(80), tcp(80)}, nil)
	assert.Len(t, env, 6)
}
