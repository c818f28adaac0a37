package nft

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded DNS server's ports of the replayed example (udp 45678, tcp
// 37021), whose `nft list table ip docker-dns` testdata/dns.golden holds
// as Docker 28.5.2 and 29.8.1 write it (replayed with nft 1.0.6; never
// rewritten by -update).
var (
	dnsUDP = netip.MustParseAddrPort("127.0.0.11:45678")
	dnsTCP = netip.MustParseAddrPort("127.0.0.11:37021")
)

func dnsGolden(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(goldenPath("dns"))
	require.NoError(t, err)
	return string(b)
}

// TestDNSTable: the table's listing is the engines'.
func TestDNSTable(t *testing.T) {
	assert.Equal(t, dnsGolden(t), DNSTable(dnsUDP, dnsTCP).String())
}

// TestSNATText: a port-only SNAT lists as nft lists it.
func TestSNATText(t *testing.T) {
	assert.Equal(t, "snat to :53", SNAT{Port: 53}.text())
	assert.Equal(t, "snat to 192.0.2.1", SNAT{Addr: netip.MustParseAddr("192.0.2.1")}.text())
	assert.Equal(t, "snat to 192.0.2.1:53", SNAT{Addr: netip.MustParseAddr("192.0.2.1"), Port: 53}.text())
}

// TestKernelDNSTable programs the table into a fresh namespace: nft lists
// it as the engines do; a second Apply (a resolver restart on other
// ports) replaces it, and it lives beside docker-bridges, which Delete
// leaves it alone.
func TestKernelDNSTable(t *testing.T) {
	testkit.RequireBinary(t, "nft")
	ns := testkit.NewNS(t, testkit.NSOptions{})
	p := NewProgrammer(ns.Fd())
	require.NoError(t, p.Apply(DNSTable(dnsUDP, dnsTCP)))
	assert.Equal(t, dnsGolden(t), nftListDNS(t, ns))

	other := DNSTable(netip.MustParseAddrPort("127.0.0.11:1111"), netip.MustParseAddrPort("127.0.0.11:2222"))
	require.NoError(t, p.Apply(other))
	assert.Equal(t, other.String(), nftListDNS(t, ns), "after a restart")

	require.NoError(t, p.Apply(Build(State{}), Build6(State{})))
	require.NoError(t, p.Delete())
	assert.Equal(t, other.String(), nftList(t, ns), "Delete removed more than docker-bridges")
}

// nftListDNS is `nft list table ip docker-dns` in ns, counters zeroed.
func nftListDNS(t *testing.T, ns *netns.NS) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("nft", "list", "table", "ip", DNSTableName)
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait(), "nft list table: %s", errb.String())
	return zeroCounters(out.String())
}
