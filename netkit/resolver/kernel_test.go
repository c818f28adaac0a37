package resolver

import (
	"bytes"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/nft"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// dockerDNS is where containers send their queries: resolv.conf's
// nameserver 127.0.0.11, port 53, which the NAT rules map to the server's
// two ports.
var dockerDNS = netip.AddrPortFrom(resolverAddr, 53)

// container is a namespace set up as Docker sets up a container's for its
// embedded DNS server: lo up, the server on 127.0.0.11 (two random
// ports), an upstream (the lab's name service, here in the same
// namespace), and the NAT rules that nat applies.
func container(t *testing.T, nat func(ns *netns.NS, udp, tcp netip.AddrPort)) *netns.NS {
	t.Helper()
	ns := labNS(t)
	startZone(t, ns, "127.0.0.53", labZone)
	sb := &fakeSandbox{}
	sb.add("app", "web", "172.18.0.2", "fd00:db8:1::2")
	s, _ := startResolver(t, ns, Config{Sandbox: sb,
		Upstreams: []Upstream{{Addr: netip.MustParseAddrPort("127.0.0.53:53")}}})
	udp, tcp := s.Addrs()
	require.NotEqual(t, udp.Port(), tcp.Port(), "two random ports")
	nat(ns, udp, tcp)
	return ns
}

// checkPort53 asks 127.0.0.11:53 over UDP and TCP from inside ns.
func checkPort53(t *testing.T, ns *netns.NS) {
	t.Helper()
	for _, proto := range []string{"udp", "tcp"} {
		m := ask(t, ns, proto, dockerDNS, "web.", dns.TypeA, 0)
		assert.Equal(t, []string{"172.18.0.2"}, addrsOf(m), proto)
		m = ask(t, ns, proto, dockerDNS, "web.app.", dns.TypeAAAA, 0)
		assert.Equal(t, []string{"fd00:db8:1::2"}, addrsOf(m), proto)
		m = ask(t, ns, proto, dockerDNS, "www.example.com.", dns.TypeA, 0)
		assert.Equal(t, []string{"203.0.113.80"}, addrsOf(m), proto)
		m = ask(t, ns, proto, dockerDNS, "nosuch.example.com.", dns.TypeA, 0)
		assert.Equal(t, dns.RcodeNameError, m.Rcode, proto)
	}
}

// TestKernelIptablesNAT: with firewall.ResolverNAT applied in the
// namespace, queries to 127.0.0.11:53 reach the server over UDP and TCP,
// and the answers come back from port 53.
func TestKernelIptablesNAT(t *testing.T) {
	testkit.RequireBinary(t, "iptables", "iptables-restore", "iptables-save")
	ns := container(t, func(ns *netns.NS, udp, tcp netip.AddrPort) {
		p := firewall.NewProgrammer(ns, firewall.Options{Logf: t.Logf})
		require.NoError(t, p.Apply(firewall.ResolverNAT(udp, tcp)))
		save, err := p.Save(firewall.TableNAT)
		require.NoError(t, err)
		assert.Contains(t, save, "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination "+udp.String())
	})
	checkPort53(t, ns)
	nslookup(t, ns)
}

// TestKernelNftablesNAT: the same with nft.DNSTable.
func TestKernelNftablesNAT(t *testing.T) {
	ns := container(t, func(ns *netns.NS, udp, tcp netip.AddrPort) {
		require.NoError(t, nft.NewProgrammer(ns.Fd()).Apply(nft.DNSTable(udp, tcp)))
	})
	checkPort53(t, ns)
}

// nslookup runs busybox's nslookup in ns, as a container would, when
// busybox is installed.
func nslookup(t *testing.T, ns *netns.NS) {
	t.Helper()
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Log("busybox not installed: no nslookup check")
		return
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := exec.Command("busybox", append([]string{"nslookup"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
		err := cmd.Wait()
		return out.String(), err
	}
	out, err := run("-type=a", "web", "127.0.0.11")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Address:\t127.0.0.11:53")
	assert.Contains(t, out, "Address: 172.18.0.2")
	out, err = run("172.18.0.2", "127.0.0.11")
	require.NoError(t, err, out)
	assert.Contains(t, out, "name = web.app")
	out, err = run("-type=a", "nosuch.example.com", "127.0.0.11")
	assert.Error(t, err, out)
	assert.True(t, strings.Contains(out, "NXDOMAIN"), out)
}
