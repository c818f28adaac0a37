package firewall

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tier 1: pure tests of the operation lists and of the in-memory model. No
// privileges needed.

// modelRun applies batches to rs as the Programmer would (resolving each
// batch), failing the test on a refused operation.
func modelRun(t *testing.T, rs *ruleset, batches [][]Op) {
	t.Helper()
	for _, ops := range batches {
		_, err := rs.resolve(ops)
		require.NoError(t, err)
	}
}

// modelSave renders rs as iptables-save does, or as iptables-save -t
// TABLE does for each of tables.
func modelSave(t *testing.T, rs *ruleset, tables ...string) string {
	t.Helper()
	s, err := rs.save(tables...)
	require.NoError(t, err)
	return s
}

// TestModelGoldens replays every scenario on the in-memory model and
// compares with the goldens (of eras 28 and 29 taken from real engines,
// of era 27 from the kernel): the model and the engines agree rule for rule
// and table for table, which also proves every Spec is in iptables-save's
// canonical form (the model prints Specs verbatim).
func TestModelGoldens(t *testing.T) {
	skipWhileUpdating(t)
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			rs := newRuleset()
			modelRun(t, rs, s.phase1())
			if got, want := modelSave(t, rs, goldenTables(t, s.name)...), readGolden(t, s.name); got != want {
				t.Errorf("after adding:\n%s", diff(want, got))
			}
			modelRun(t, rs, s.phase2())
			if got, want := modelSave(t, rs, goldenTables(t, s.name+"_removed")...), readGolden(t, s.name+"_removed"); got != want {
				t.Errorf("after removing containers:\n%s", diff(want, got))
			}
			// A table once created stays (the raw table of the first
			// endpoint): compared table by table.
			modelRun(t, rs, s.phase3())
			base := newRuleset()
			modelRun(t, base, s.baseline())
			if got, want := modelSave(t, rs, DefaultTables...), modelSave(t, base, DefaultTables...); got != want {
				t.Errorf("after removing networks:\n%s", diff(want, got))
			}
		})
	}
}

// docsEra27 is docs/docker.md §1.2 (a): Docker 20.10–27, docker0,
// one container 172.17.0.2 with -p 8080:80, ip_forward flipped.
const docsEra27 = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
`

// docsEra29 is §1.2(c): Docker 29, same example.
const docsEra29 = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-INTERNAL - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER ! -i docker0 -o docker0 -j DROP
-A DOCKER-BRIDGE -o docker0 -j DOCKER
-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-INTERNAL
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i docker0 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
`

// docsEra28 is §1.2(b), which docs/docker.md gives abbreviated (no built-in chain
// headers, no COMMIT): compared on the -A lines and the FORWARD policy.
const docsEra28 = `*raw
-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP
*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER ! -i docker0 -o docker0 -j DROP
-A DOCKER-BRIDGE -o docker0 -j DOCKER
-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
*nat
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
`

// TestGoldensMatchDocs pins the default goldens to docs/docker.md: the
// era-27 one byte for byte.
func TestGoldensMatchDocs(t *testing.T) {
	skipWhileUpdating(t)
	if got := readGolden(t, "era27_default"); got != docsEra27 {
		t.Errorf("era27_default.golden differs from docs/docker.md §1.2 (a):\n%s", diff(docsEra27, got))
	}
	if got := readGolden(t, "era29_default"); got != docsEra29 {
		t.Errorf("era29_default.golden differs from docs/docker.md §1.2 (c):\n%s", diff(docsEra29, got))
	}
	keep := func(s string) string {
		var out []string
		for l := range strings.Lines(s) {
			if strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, "*") || strings.HasPrefix(l, ":FORWARD") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "")
	}
	if got, want := keep(readGolden(t, "era28_default")), keep(docsEra28); got != want {
		t.Errorf("era28_default.golden differs from docs/docker.md §1.2 (b):\n%s", diff(want, got))
	}
}

// TestEra27Sequence checks the operation sequence of docs/docker.md §1.2 (a), command
// by command (conditional kinds render as their shell idiom).
func TestEra27Sequence(t *testing.T) {
	c := Config{IPForwardFlipped: true}
	var got []string
	for _, ops := range [][]Op{c.Start(), c.AddNetwork(docker0), c.AddBindings(docker0, ctr1, web)} {
		for _, o := range ops {
			got = append(got, o.String())
		}
	}
	want := []string{
		"iptables -t nat -L DOCKER >/dev/null 2>&1 || iptables -t nat -N DOCKER",
		"iptables -L DOCKER >/dev/null 2>&1 || iptables -N DOCKER",
		"iptables -L DOCKER-ISOLATION-STAGE-1 >/dev/null 2>&1 || iptables -N DOCKER-ISOLATION-STAGE-1",
		"iptables -L DOCKER-ISOLATION-STAGE-2 >/dev/null 2>&1 || iptables -N DOCKER-ISOLATION-STAGE-2",
		"iptables -C DOCKER-ISOLATION-STAGE-1 -j RETURN || iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
		"iptables -C DOCKER-ISOLATION-STAGE-2 -j RETURN || iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN",
		"iptables -P FORWARD DROP",
		"iptables -t nat -C POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE || iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
		"iptables -t nat -C DOCKER -i docker0 -j RETURN || iptables -t nat -I DOCKER -i docker0 -j RETURN",
		"iptables -C FORWARD -i docker0 -o docker0 -j ACCEPT || iptables -I FORWARD -i docker0 -o docker0 -j ACCEPT",
		"iptables -C FORWARD -i docker0 ! -o docker0 -j ACCEPT || iptables -I FORWARD -i docker0 ! -o docker0 -j ACCEPT",
		"iptables -t nat -C PREROUTING -m addrtype --dst-type LOCAL -j DOCKER || iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
		"iptables -t nat -C OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER || iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
		"iptables -C FORWARD -o docker0 -j DOCKER || iptables -I FORWARD -o docker0 -j DOCKER",
		"iptables -C FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT || iptables -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"iptables -D FORWARD -j DOCKER-ISOLATION-STAGE-1; iptables -I FORWARD -j DOCKER-ISOLATION-STAGE-1",
		"iptables -C DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2 || iptables -I DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
		"iptables -C DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP || iptables -I DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
		"iptables -L DOCKER-USER >/dev/null 2>&1 || iptables -N DOCKER-USER",
		"iptables -C DOCKER-USER -j RETURN || iptables -A DOCKER-USER -j RETURN",
		"iptables -D FORWARD -j DOCKER-USER; iptables -I FORWARD -j DOCKER-USER",
		"iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
		"iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
		"iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sequence:\n%s", diff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
}

// TestRemovalIsInverse: every rule a container's or network's add creates is
// deleted by the matching remove, with the very same spec.
func TestRemovalIsInverse(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			for _, c := range s.ctrs {
				n := s.nets[c.net]
				add := append(s.cfg.AddEndpoint(n, c.addr), s.cfg.AddBindings(n, c.addr, c.ports...)...)
				del := append(s.cfg.RemoveBindings(n, c.addr, c.ports...), s.cfg.RemoveEndpoint(n, c.addr)...)
				require.Len(t, del, len(add), "rules deleted for the rules added")
				for _, a := range add {
					assert.True(t, slices.ContainsFunc(del, func(d Op) bool {
						return d.Kind == Delete && d.Rule.Table == a.Rule.Table && d.Rule.String() == a.Rule.String()
					}), "%s is never deleted", a)
				}
			}
		})
	}
}

// TestPortOpsNeedNoState: per-container operations are plain, so applying
// them costs one iptables-restore and no read of the rules.
func TestPortOpsNeedNoState(t *testing.T) {
	for _, s := range scenarios() {
		for _, c := range s.ctrs {
			n := s.nets[c.net]
			for _, ops := range [][]Op{
				s.cfg.AddBindings(n, c.addr, c.ports...), s.cfg.RemoveBindings(n, c.addr, c.ports...),
				s.cfg.AddEndpoint(n, c.addr), s.cfg.RemoveEndpoint(n, c.addr),
			} {
				for _, o := range ops {
					assert.False(t, o.Kind.needsState(), "%s: %s needs the current rules", s.name, o)
				}
			}
		}
	}
}

func TestIPTablesOffIsEmpty(t *testing.T) {
	c := Config{NoIPTables: true, IPForwardFlipped: true}
	all := [][]Op{
		c.Start(), c.AddNetwork(docker0), c.RemoveNetwork(docker0),
		c.AddBindings(docker0, ctr1, web), c.RemoveBindings(docker0, ctr1, web),
		c.AddEndpoint(docker0, ctr1), c.RemoveEndpoint(docker0, ctr1),
	}
	for _, ops := range all {
		assert.Empty(t, ops, "--iptables=false produced operations")
	}
}

func TestPortVariants(t *testing.T) {
	c := Config{}
	udp := ports.Binding{Container: ports.Port{Num: 5353, Proto: ports.UDP}, HostIP: netip.MustParseAddr("192.168.190.128"), HostPort: 53}
	got := c.AddBindings(docker0, ctr1, udp)
	want := []string{
		"-A DOCKER -d 192.168.190.128/32 ! -i docker0 -p udp -m udp --dport 53 -j DNAT --to-destination 172.17.0.2:5353",
		"-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 5353 -j ACCEPT",
		"-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p udp -m udp --dport 5353 -j MASQUERADE",
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i], got[i].Rule.String(), "rule %d", i)
	}

	sctp := ports.Binding{Container: ports.Port{Num: 3868, Proto: ports.SCTP}, HostPort: 3868}
	ops := c.AddBindings(docker0, ctr1, sctp)
	last := ops[len(ops)-1]
	assert.Equal(t, TableMangle, last.Rule.Table, "sctp checksum rule: %v", last)
	assert.Equal(t, "-A POSTROUTING -p sctp -m sctp --sport 3868 -j CHECKSUM --checksum-fill", last.Rule.String(), "sctp checksum rule")
	assert.Len(t, Config{Release: release.Release{Era: release.Era29}}.AddBindings(docker0, ctr1, sctp), 2, "era 29 sctp: want DNAT and ACCEPT")

	// Host IPv6 to an IPv4 container: docker-proxy only, no rules.
	v6 := on("::", tcp(8080, 80))
	assert.Empty(t, c.AddBindings(docker0, ctr1, v6), "IPv6 binding")
	// Ports on an internal network: none.
	assert.Empty(t, c.AddBindings(intNet, ctr1, web), "internal network")
}

func TestRender(t *testing.T) {
	cmds, err := plainCommands(Config{}.AddBindings(docker0, ctr1, web))
	require.NoError(t, err)
	script, lines, err := render(group(cmds))
	require.NoError(t, err)
	want := `*nat
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
COMMIT
*filter
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
`
	if script != want {
		t.Errorf("script:\n%s", diff(want, script))
	}
	assert.Equal(t, where{block: 1, cmd: 0}, lines[6], "line 6 maps to")

	cmds, err = plainCommands(Config{Release: release.Release{Era: release.Era29}}.AddBindings(docker0, ctr1, web))
	require.NoError(t, err)
	script, _, _ = render(group(cmds))
	assert.Contains(t, script, "-I DOCKER 1 -d 172.17.0.2/32", "era 29 ACCEPT is not inserted at the top")

	_, err = plainCommands(Config{}.Start())
	assert.ErrorIs(t, err, ErrRuleset, "conditional ops rendered without state")
	bad := []Op{rule(Append, TableFilter, "X", "-m", "comment", "--comment", "two words", "-j", "ACCEPT")}
	cmds, _ = plainCommands(bad)
	_, _, err = render(group(cmds))
	assert.ErrorIs(t, err, ErrRuleset, "blank in an argument")
}

func TestFailedLine(t *testing.T) {
	for stderr, want := range map[string]int{
		"iptables-restore: line 3 failed: Bad rule (does a matching rule exist in that chain?).\n":                3,
		"iptables-restore v1.8.9 (nf_tables): Chain 'NOPE' does not exist\nError occurred at line: 4\n":           4,
		"iptables-restore v1.8.9 (nf_tables): \nline 2: CHAIN_DEL failed (Device or resource busy): chain USED\n": 2,
		"something else": 0,
	} {
		assert.Equal(t, want, failedLine(stderr), "failedLine(%q)", stderr)
	}
}

func TestModelRefuses(t *testing.T) {
	rs := newRuleset()
	for _, o := range []Op{
		rule(Append, TableFilter, "NOPE", "-j", "ACCEPT"),
		rule(Append, TableFilter, "FORWARD", "-j", "NOPE"),
		rule(Insert, TableFilter, "FORWARD", "-j", "ACCEPT"),
	} {
		_, err := rs.apply(o)
		if o.Kind == Insert {
			assert.NoError(t, err, "%s", o)
			continue
		}
		assert.ErrorIs(t, err, ErrRuleset, "%s", o)
	}
	_, err := rs.apply(Op{Kind: Insert, Rule: Rule{Table: TableFilter, Chain: "FORWARD", Spec: []string{"-j", "DROP"}}, Pos: 5})
	assert.ErrorIs(t, err, ErrRuleset, "insert beyond the end")
	modelRun(t, rs, [][]Op{Config{}.Start(), Config{}.AddNetwork(docker0)})
	_, err = rs.apply(chainOp(DeleteChain, TableFilter, ChainIsolation2))
	assert.ErrorIs(t, err, ErrRuleset, "deleting a referenced chain")
	// Deleting a missing rule is tolerated and emits nothing.
	c, err := rs.apply(Op{Kind: Delete, Rule: web2Accept()})
	assert.NoError(t, err, "delete of a missing rule")
	assert.Empty(t, c, "delete of a missing rule")
}

func web2Accept() Rule {
	return Rule{Table: TableFilter, Chain: ChainDocker, Spec: strings.Fields("-d 172.17.0.9/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT")}
}

func TestParseSaveRoundTrip(t *testing.T) {
	rs := newRuleset()
	require.NoError(t, rs.parseSave("# Generated\n"+docsEra27+"# Completed\n"))
	if got := modelSave(t, rs); got != docsEra27 {
		t.Errorf("round trip:\n%s", diff(docsEra27, got))
	}
}

func TestNormalize(t *testing.T) {
	in := "# Generated by iptables-save v1.8.9 (nf_tables) on Thu\n*nat\n:PREROUTING ACCEPT [12:720]\n:DOCKER - [3:4]\n-A DOCKER -j RETURN\nCOMMIT\n# Completed on Thu\n"
	want := "*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n-A DOCKER -j RETURN\nCOMMIT\n"
	if got := Normalize(in); got != want {
		t.Errorf("Normalize:\n%s", diff(want, got))
	}
}

// skipWhileUpdating skips tests that read goldens while -update rewrites
// them from the kernel; run the tests again without -update.
func skipWhileUpdating(t *testing.T) {
	if *update {
		t.Skip("skipping: -update is rewriting the goldens from the kernel")
	}
}

// diff shows two texts as a unified diff from want to got.
func diff(want, got string) string {
	return testkit.TextDiff("want", want, "got", got)
}

// TestParseForeignState: a host's rules may hold tables this package does
// not know and user rules with quoted arguments; resolution still works.
func TestParseForeignState(t *testing.T) {
	rs := newRuleset()
	state := `# Warning: iptables-legacy tables present, use iptables-legacy-save to see them
*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -j ACCEPT
COMMIT
*filter
:INPUT ACCEPT [10:20]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -s 10.0.0.0/8 -m comment --comment "lab rule" -j DROP
COMMIT
`
	require.NoError(t, rs.parseSave(state))
	c := Config{}
	cmds, err := rs.resolve(append(c.Start(), c.AddNetwork(docker0)...))
	require.NoError(t, err)
	for _, cm := range cmds {
		assert.False(t, cm.args[0] == "-N" && cm.args[1] == ChainUser, "existing DOCKER-USER created again")
	}
	got, err := rs.save("security", TableFilter)
	require.NoError(t, err)
	for _, want := range []string{
		"*security\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n",
		"-A DOCKER-USER -s 10.0.0.0/8 -m comment --comment \"lab rule\" -j DROP\n-A DOCKER-USER -j RETURN\n",
		":FORWARD DROP [0:0]\n",
	} {
		assert.Contains(t, got, want)
	}
}

// TestGoldensNameEngine: every golden of an era with an engine in `make
// oracle` was written from that engine (cmd/labrun/fidelity TestGoldens
// -goldens) and says so on its first line; era 27's come from the kernel.
func TestGoldensNameEngine(t *testing.T) {
	engines := map[release.Era]string{release.Era28: "# Docker 28.5.2 ", release.Era29: "# Docker 29.8.1 "}
	for _, s := range scenarios() {
		for _, name := range []string{s.name, s.name + "_removed"} {
			b, err := os.ReadFile(goldenPath(name))
			require.NoError(t, err)
			if want, ok := engines[s.cfg.Release.Era]; ok {
				assert.True(t, strings.HasPrefix(string(b), want), "%s does not start with %q", name, want)
			} else {
				assert.False(t, engineGolden(t, name), "%s names an engine", name)
			}
		}
	}
}

// TestModelTables: a table exists once something is created in it, as in
// the kernel; deletes create none, and a table once made stays.
func TestModelTables(t *testing.T) {
	rs := newRuleset()
	assert.Empty(t, modelSave(t, rs), "a fresh namespace")
	assert.Equal(t, "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", modelSave(t, rs, TableRaw), "iptables-save -t raw of a missing table")
	assert.Empty(t, modelSave(t, rs), "iptables-save -t created a table")
	drop := Config{Release: release.Release{Era: release.Era29}}.AddEndpoint(docker0, ctr1)
	require.NotEmpty(t, drop)
	c, err := rs.apply(Op{Kind: Delete, Rule: drop[0].Rule})
	require.NoError(t, err)
	assert.Empty(t, c, "delete in a missing table")
	assert.Empty(t, modelSave(t, rs), "a delete created a table")
	modelRun(t, rs, [][]Op{drop, Config{Release: release.Release{Era: release.Era29}}.RemoveEndpoint(docker0, ctr1)})
	assert.Equal(t, "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", modelSave(t, rs), "the raw table after its last rule")
	modelRun(t, rs, [][]Op{{rule(Append, TableNAT, "POSTROUTING", "-j", "ACCEPT"), rule(Append, TableMangle, "OUTPUT", "-j", "ACCEPT")}})
	var heads []string
	for l := range strings.Lines(modelSave(t, rs)) {
		if strings.HasPrefix(l, "*") {
			heads = append(heads, strings.TrimSpace(l))
		}
	}
	assert.Equal(t, []string{"*mangle", "*raw", "*nat"}, heads, "iptables-save's order of tables")
	_, err = rs.apply(Op{Kind: Delete, Rule: Rule{Table: "nope", Chain: "X", Spec: []string{"-j", "DROP"}}})
	assert.ErrorIs(t, err, ErrRuleset, "delete in an unknown table")
}
