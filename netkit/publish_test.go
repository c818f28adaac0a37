package netkit_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

func binding(port uint16, proto ports.Proto, ip string, host uint16) ports.Binding {
	return ports.Binding{Container: ports.Port{Num: port, Proto: proto}, HostIP: netip.MustParseAddr(ip), HostPort: host}
}

// TestPublishForms runs one container per -p form and checks the bindings
// Docker 27 would report and that the client reaches the container through
// each TCP one.
func TestPublishForms(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	tcp, udp := ports.TCP, ports.UDP
	cases := []struct {
		spec string
		want []ports.Binding
		dial string // client dials this, container listens on its port
	}{
		{"8080:80", []ports.Binding{binding(80, tcp, "0.0.0.0", 8080), binding(80, tcp, "::", 8080)}, "192.168.190.128:8080"},
		{"192.168.190.128:8081:80", []ports.Binding{binding(80, tcp, "192.168.190.128", 8081)}, "192.168.190.128:8081"},
		{"192.168.190.128::80", []ports.Binding{binding(80, tcp, "192.168.190.128", 32768)}, "192.168.190.128:32768"},
		{"80", []ports.Binding{binding(80, tcp, "0.0.0.0", 32769), binding(80, tcp, "::", 32769)}, "192.168.190.128:32769"},
		{"9090-9092:80", []ports.Binding{binding(80, tcp, "0.0.0.0", 9090), binding(80, tcp, "::", 9090)}, "192.168.190.128:9090"},
		{"5353:53/udp", []ports.Binding{binding(53, udp, "0.0.0.0", 5353), binding(53, udp, "::", 5353)}, ""},
	}
	for i, tc := range cases {
		c, err := e.Run(netkit.RunOptions{Publish: mustBindings(t, tc.spec)})
		require.NoError(t, err, tc.spec)
		require.Equal(t, tc.want, c.Ports(), tc.spec)
		if tc.dial == "" {
			continue
		}
		_, _ = listen(t, node(t, lab, c.Name), ":80")
		out, err := dial(node(t, lab, "client"), tc.dial)
		require.NoError(t, err, "case %d %s", i, tc.spec)
		require.Equal(t, "hello", out)
	}
	// A range publishes pairwise.
	c, err := e.Run(netkit.RunOptions{Publish: mustBindings(t, "7000-7001:70-71")})
	require.NoError(t, err)
	require.Equal(t, []ports.Binding{
		binding(70, tcp, "0.0.0.0", 7000), binding(70, tcp, "::", 7000),
		binding(71, tcp, "0.0.0.0", 7001), binding(71, tcp, "::", 7001),
	}, c.Ports())
	// The second container on the same host range gets the next port.
	c2, err := e.Run(netkit.RunOptions{Publish: mustBindings(t, "9090-9092:80")})
	require.NoError(t, err)
	require.Equal(t, uint16(9091), c2.Ports()[0].HostPort)
}

// TestPublishUDP: a UDP datagram from the client reaches the container.
func TestPublishUDP(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	c, err := e.Run(netkit.RunOptions{Name: "dns", Publish: mustBindings(t, "5353:53/udp")})
	require.NoError(t, err)
	var pc net.PacketConn
	require.NoError(t, node(t, lab, c.Name).NS().Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp4", ":53")
		return err
	}))
	defer pc.Close()
	var conn net.Conn
	require.NoError(t, node(t, lab, "client").NS().Do(func() error {
		var err error
		conn, err = net.Dial("udp4", "192.168.190.128:5353")
		return err
	}))
	defer conn.Close()
	_, err = conn.Write([]byte("q"))
	require.NoError(t, err)
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 16)
	n, from, err := pc.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "q", string(buf[:n]))
	require.Equal(t, "192.168.190.1", from.(*net.UDPAddr).IP.String())
}

// TestPublishAll: -P publishes EXPOSE and --expose ports on ephemeral ports
// in Docker 27's order (ascending container port), from 32768.
func TestPublishAll(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	exp := []ports.Port{{Num: 443, Proto: ports.TCP}, {Num: 80, Proto: ports.TCP}, {Num: 22, Proto: ports.TCP}}
	c, err := e.Run(netkit.RunOptions{PublishAll: true, Expose: exp, ExtraExpose: []ports.Port{{Num: 8443, Proto: ports.TCP}}})
	require.NoError(t, err)
	var got []string
	for _, b := range c.Ports() {
		if b.HostIP.Is4() {
			got = append(got, b.Container.String()+"->"+netip.AddrPortFrom(b.HostIP, b.HostPort).String())
		}
	}
	require.Equal(t, []string{"22/tcp->0.0.0.0:32768", "80/tcp->0.0.0.0:32769", "443/tcp->0.0.0.0:32770", "8443/tcp->0.0.0.0:32771"}, got)
	// --expose alone publishes nothing.
	c2, err := e.Run(netkit.RunOptions{ExtraExpose: []ports.Port{{Num: 81, Proto: ports.TCP}}})
	require.NoError(t, err)
	require.Empty(t, c2.Ports())
}

// TestDefaultBindIP: dockerd --ip sets the default host address of -p.
func TestDefaultBindIP(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{IP: netip.MustParseAddr("192.168.190.128")})
	c, err := e.Run(netkit.RunOptions{Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	require.Equal(t, []ports.Binding{binding(80, ports.TCP, "192.168.190.128", 801)}, c.Ports())
}

// TestNoUserlandProxy: with --userland-proxy=false the client still reaches
// the container, and a container reaches its own published port via the
// host address (hairpin NAT).
func TestNoUserlandProxy(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{NoUserlandProxy: true})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	_, _ = listen(t, node(t, lab, "web"), ":80")
	out, err := dial(node(t, lab, "client"), "192.168.190.128:801")
	require.NoError(t, err)
	require.Equal(t, "hello", out)
	out, err = dial(node(t, lab, "web"), "192.168.190.128:801")
	require.NoError(t, err)
	require.Equal(t, "hello", out)
}

// TestNoUserlandProxyIPv4Only: with the proxy off, 28 and later leave out
// the IPv6 host addresses of a container without IPv6 (docs/docker.md §2.4):
// -p 8080:80 is 0.0.0.0:8080 only, -p [::]:8081:80 publishes nothing. 27
// keeps both.
func TestNoUserlandProxyIPv4Only(t *testing.T) {
	for era, want := range map[release.Era][]ports.Binding{
		release.Era27: {binding(80, ports.TCP, "0.0.0.0", 8080), binding(80, ports.TCP, "::", 8080), binding(80, ports.TCP, "::", 8081)},
		release.Era28: {binding(80, ports.TCP, "0.0.0.0", 8080)},
		release.Era29: {binding(80, ports.TCP, "0.0.0.0", 8080)},
	} {
		t.Run(era.String(), func(t *testing.T) {
			lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{NoUserlandProxy: true, Release: release.Release{Era: era}})
			c, err := e.Run(netkit.RunOptions{Name: "web", Publish: append(mustBindings(t, "8080:80"), mustBindings(t, "[::]:8081:80")...)})
			require.NoError(t, err)
			require.Equal(t, want, c.Ports())
			_, _ = listen(t, node(t, lab, "web"), ":80")
			out, err := dial(node(t, lab, "client"), "192.168.190.128:8080")
			require.NoError(t, err)
			require.Equal(t, "hello", out)
		})
	}
}

// TestNoICC: with --icc=false containers on docker0 cannot talk to each
// other but still reach the internet.
func TestNoICC(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{NoICC: true})
	_, err := e.Run(netkit.RunOptions{Name: "ctr-a"})
	require.NoError(t, err)
	_, err = e.Run(netkit.RunOptions{Name: "ctr-b"})
	require.NoError(t, err)
	_, _ = listen(t, node(t, lab, "ctr-b"), ":80")
	_, err = dial(node(t, lab, "ctr-a"), "172.17.0.3:80")
	require.Error(t, err)
	_, _ = listen(t, node(t, lab, "internet"), "203.0.113.10:80")
	_, err = dial(node(t, lab, "ctr-a"), "203.0.113.10:80")
	require.NoError(t, err)
}

// TestCustomBridge: -b uses an existing bridge and its address, as in the
// article's bridge0 steps.
func TestCustomBridge(t *testing.T) {
	lab, _ := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	host := lab.Host()
	for _, argv := range [][]string{
		{"ip", "link", "add", "bridge0", "type", "bridge"},
		{"ip", "addr", "add", "192.168.5.1/24", "dev", "bridge0"},
		{"ip", "link", "set", "bridge0", "up"},
	} {
		_, err := host.Output(argv...)
		require.NoError(t, err)
	}
	e, err := lab.StartEngine(netkit.DaemonOptions{Bridge: "bridge0"})
	require.NoError(t, err)
	c, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
	require.NoError(t, err)
	require.Equal(t, "192.168.5.2", c.IP("").String())
	require.Equal(t, "192.168.5.1", c.Inspect().NetworkSettings.Gateway)
	seen, _ := listen(t, node(t, lab, "internet"), "203.0.113.10:80")
	_, err = dial(node(t, lab, "ctr-c"), "203.0.113.10:80")
	require.NoError(t, err)
	require.Contains(t, <-seen, "192.168.190.128:")
}

// TestDefaultGateway: --default-gateway changes the containers' route.
func TestDefaultGateway(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{
		BIP: netip.MustParsePrefix("172.17.0.1/16"), DefaultGateway: netip.MustParseAddr("172.17.0.254"),
	})
	_, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
	require.NoError(t, err)
	out, err := node(t, lab, "ctr-c").Output("ip", "-4", "route", "show", "default")
	require.NoError(t, err)
	require.Contains(t, string(out), "default via 172.17.0.254 dev eth0")
}

// TestBridgeNone: -b none disables the default bridge.
func TestBridgeNone(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Bridge: "none"})
	_, err := e.Network("bridge")
	require.ErrorIs(t, err, netkit.ErrNotFound)
	_, err = lab.Host().Netlink().LinkByName("docker0")
	require.Error(t, err)
}
