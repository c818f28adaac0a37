package firewall

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded DNS server's ports of the replayed example (udp 45678, tcp
// 37021), whose iptables-save testdata/resolver_nat.golden holds.
var (
	dnsUDP = netip.MustParseAddrPort("127.0.0.11:45678")
	dnsTCP = netip.MustParseAddrPort("127.0.0.11:37021")
)

// TestResolverNATOps pins the operations, as the shell commands they stand
// for (testdata/resolver_nat_ops.golden; -update rewrites it).
func TestResolverNATOps(t *testing.T) {
	var sb strings.Builder
	for _, o := range ResolverNAT(dnsUDP, dnsTCP) {
		sb.WriteString(o.String() + "\n")
	}
	name := "resolver_nat_ops"
	if *update {
		require.NoError(t, os.WriteFile(goldenPath(name), []byte(sb.String()), 0o644))
		return
	}
	if want := readGolden(t, name); sb.String() != want {
		t.Errorf("%s:\n%s", name, diff(want, sb.String()))
	}
}

// TestResolverNATModel applies the operations to the in-memory model: the
// nat table is the engines' (tcp rules above udp ones), and a restart with
// new ports leaves only the new rules and one jump each.
func TestResolverNATModel(t *testing.T) {
	skipWhileUpdating(t)
	rs := newRuleset()
	modelRun(t, rs, [][]Op{ResolverNAT(dnsUDP, dnsTCP)})
	want := readGolden(t, "resolver_nat")
	if got := modelSave(t, rs, TableNAT); got != want {
		t.Errorf("nat table:\n%s", diff(want, got))
	}
	modelRun(t, rs, [][]Op{ResolverNAT(netip.MustParseAddrPort("127.0.0.11:1111"), netip.MustParseAddrPort("127.0.0.11:2222"))})
	modelRun(t, rs, [][]Op{ResolverNAT(dnsUDP, dnsTCP)})
	if got := modelSave(t, rs, TableNAT); got != want {
		t.Errorf("nat table after two restarts:\n%s", diff(want, got))
	}
}

// TestFlushNeedsChain: flushing a chain that does not exist is refused, as
// iptables refuses it.
func TestFlushNeedsChain(t *testing.T) {
	_, err := newRuleset().resolve([]Op{chainOp(Flush, TableNAT, ChainDNSOutput)})
	assert.ErrorIs(t, err, ErrRuleset)
	assert.Equal(t, "iptables -t nat -F DOCKER_OUTPUT", chainOp(Flush, TableNAT, ChainDNSOutput).String())
	assert.Equal(t, "Flush", Flush.String())
}

// TestKernelResolverNAT applies the operations with a Programmer in a
// fresh namespace: iptables-save -t nat there is the engines' text, also
// after a restart of the resolver on other ports and back.
func TestKernelResolverNAT(t *testing.T) {
	skipWhileUpdating(t)
	t.Parallel()
	p := newProgrammer(t)
	require.NoError(t, p.Apply(ResolverNAT(dnsUDP, dnsTCP)))
	want := readGolden(t, "resolver_nat")
	if got := save(t, p, TableNAT); got != want {
		t.Errorf("iptables-save -t nat:\n%s", diff(want, got))
	}
	assert.NoError(t, p.Check(ResolverNAT(dnsUDP, dnsTCP)))
	require.NoError(t, p.Apply(ResolverNAT(netip.MustParseAddrPort("127.0.0.11:1111"), netip.MustParseAddrPort("127.0.0.11:2222"))))
	assert.NotContains(t, save(t, p, TableNAT), "45678", "restart kept the old rules")
	require.NoError(t, p.Apply(ResolverNAT(dnsUDP, dnsTCP)))
	if got := save(t, p, TableNAT); got != want {
		t.Errorf("iptables-save -t nat after two restarts:\n%s", diff(want, got))
	}
}
