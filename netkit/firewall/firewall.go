package firewall

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit/release"
)

// Tables Docker writes to.
const (
	TableRaw    = "raw"
	TableMangle = "mangle"
	TableFilter = "filter"
	TableNAT    = "nat"
)

// Chain names. These are Docker's and must never change: users' DOCKER-USER
// rules, scripts and the lab's checks refer to them by name.
const (
	// ChainDocker is DOCKER in nat (DNAT per published port) and in filter
	// (ACCEPT per published port).
	ChainDocker = "DOCKER"
	// ChainUser is DOCKER-USER, jumped to first from FORWARD; Docker never
	// adds rules to it other than (before 28.3) a final RETURN.
	ChainUser = "DOCKER-USER"
	// ChainIsolation1 and ChainIsolation2 isolate bridge networks from each
	// other (eras 27 and 28): stage 1 matches traffic leaving a bridge for
	// another interface, stage 2 drops it if it enters another bridge.
	ChainIsolation1 = "DOCKER-ISOLATION-STAGE-1"
	ChainIsolation2 = "DOCKER-ISOLATION-STAGE-2"
	// ChainForward is DOCKER-FORWARD (eras 28+), Docker's part of FORWARD.
	ChainForward = "DOCKER-FORWARD"
	// ChainBridge is DOCKER-BRIDGE (eras 28+): per bridge, a jump to DOCKER.
	ChainBridge = "DOCKER-BRIDGE"
	// ChainCT is DOCKER-CT (eras 28+): per bridge, accept replies.
	ChainCT = "DOCKER-CT"
	// ChainInternal is DOCKER-INTERNAL (era 29): rules of --internal
	// networks.
	ChainInternal = "DOCKER-INTERNAL"
)

// Built-in chains used here.
const (
	chainPrerouting  = "PREROUTING"
	chainOutput      = "OUTPUT"
	chainPostrouting = "POSTROUTING"
	chainFORWARD     = "FORWARD"
)

// Config holds the engine-wide (dockerd) settings that shape every rule. The
// zero value is dockerd 20.10–27 with no flags on a host that already
// forwarded IPv4.
type Config struct {
	// Release is the Docker release whose rules are produced; only its
	// Era matters here.
	Release release.Release
	// NoUserlandProxy is --userland-proxy=false ("hairpin mode"): DNAT also
	// applies to traffic from the bridge, the nat OUTPUT jump has no
	// loopback exclusion, and locally originated traffic to a bridge is
	// masqueraded.
	NoUserlandProxy bool
	// IPForwardFlipped says net.ipv4.ip_forward was 0 when the engine
	// started and the engine turned it on, in which case Docker sets the
	// filter FORWARD policy to DROP.
	IPForwardFlipped bool
	// NoIPTables is --iptables=false: no chains, no rules, no policy; every
	// builder of family IPv4 returns nil.
	NoIPTables bool
	// NoIP6Tables is --ip6tables=false: every builder of family IPv6
	// returns nil. --ip6tables is independent of --iptables, and on by
	// default from 27.0, off (experimental) up to 26: see
	// release.Release.IP6TablesByDefault.
	NoIP6Tables bool
}

// Network is one bridge network's firewall-relevant settings. The default
// bridge and user-defined networks differ only in where these settings come
// from (daemon flags or -o options), not in the rules they produce.
type Network struct {
	// Name is the network's name, for messages only.
	Name string
	// Bridge is the bridge device name (docker0, br-<id12>).
	Bridge string
	// Subnet is the network's IPv4 subnet (masked when rules are built).
	// A network without one (--ipv4=false) has no iptables rules.
	Subnet netip.Prefix
	// Subnet6 is the network's IPv6 subnet, set when it was created with
	// --ipv6 (the default bridge: dockerd --ipv6); the zero value is an
	// IPv4-only network, which has no ip6tables rules of its own (era 27
	// gives it its ip6tables isolation rules all the same).
	Subnet6 netip.Prefix
	// NoICC is --icc=false / com.docker.network.bridge.enable_icc=false.
	NoICC bool
	// NoIPMasq is --ip-masq=false /
	// com.docker.network.bridge.enable_ip_masquerade=false.
	NoIPMasq bool
	// Internal is docker network create --internal.
	Internal bool
	// HostIPv4 is com.docker.network.host_ipv4: when set, outgoing traffic
	// is SNATed to it instead of masqueraded.
	HostIPv4 netip.Addr
	// HostIPv6 is com.docker.network.host_ipv6, the same for IPv6.
	HostIPv6 netip.Addr
}

// Family is an IP family: which of iptables and ip6tables a rule is for,
// and which of them a Programmer runs. The zero value is IPv4.
type Family int

const (
	// IPv4 rules are iptables' (iptables-restore, iptables-save).
	IPv4 Family = iota
	// IPv6 rules are ip6tables' (ip6tables-restore, ip6tables-save).
	IPv6
)

// String names the family ("IPv4", "IPv6").
func (f Family) String() string {
	if f == IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// Command is the family's iptables command: "iptables" or "ip6tables".
func (f Family) Command() string {
	if f == IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// subnet is n's subnet of family f, masked; the zero Prefix if it has none.
func (n Network) subnet(f Family) netip.Prefix {
	p := n.Subnet
	if f == IPv6 {
		p = n.Subnet6
	}
	if !p.IsValid() || p.Addr().Is4() != (f == IPv4) {
		return netip.Prefix{}
	}
	return p.Masked()
}

// hostIP is n's SNAT address of family f (com.docker.network.host_ipv4 or
// host_ipv6), or the zero Addr.
func (n Network) hostIP(f Family) netip.Addr {
	if f == IPv6 {
		return n.HostIPv6
	}
	return n.HostIPv4
}

// Rule is one iptables or ip6tables rule: its family, a table, a chain
// and a rule specification. Spec
// is written in the canonical form iptables-save prints (-s, -d, -i, -o, -p,
// matches, -j), without the leading "-A CHAIN", so that a rule read back from
// the kernel compares equal as text. Arguments never contain blanks.
type Rule struct {
	// Family says which of iptables (the zero value) and ip6tables the
	// rule is for; a Programmer refuses a rule of the other family.
	Family Family
	Table  string
	Chain  string
	Spec   []string
}

// String formats the rule as iptables-save does: "-A CHAIN spec…".
func (r Rule) String() string {
	return "-A " + r.Chain + " " + strings.Join(r.Spec, " ")
}

func (r Rule) specString() string { return strings.Join(r.Spec, " ") }

// OpKind is what an Op does with its rule or chain.
type OpKind int

const (
	// NewChain creates user chain Rule.Chain in Rule.Table, and does nothing
	// if it exists (Docker's NewChain).
	NewChain OpKind = iota + 1
	// Append appends the rule at the end of its chain.
	Append
	// AppendUnique appends the rule unless the chain already holds it
	// (Docker's "exists, else append").
	AppendUnique
	// Insert inserts the rule at position Pos (1 when Pos is 0).
	Insert
	// InsertUnique inserts the rule at position Pos unless the chain
	// already holds it (Docker's programChainRule).
	InsertUnique
	// EnsureFirst makes the rule the first of its chain: deleted if present
	// elsewhere, inserted at position 1 (Docker's EnsureJumpRule).
	EnsureFirst
	// Delete deletes the rule. A rule that is already gone is not an error.
	Delete
	// Policy sets built-in chain Rule.Chain's policy to Op.Policy.
	Policy
	// DeleteChain flushes and deletes user chain Rule.Chain, and does
	// nothing if it does not exist.
	DeleteChain
	// Flush deletes every rule of chain Rule.Chain, which must exist
	// (Docker's resolver refilling its chains on a restart).
	Flush
)

var kindNames = map[OpKind]string{
	NewChain: "NewChain", Append: "Append", AppendUnique: "AppendUnique",
	Insert: "Insert", InsertUnique: "InsertUnique", EnsureFirst: "EnsureFirst",
	Delete: "Delete", Policy: "Policy", DeleteChain: "DeleteChain", Flush: "Flush",
}

// String names the kind ("Append").
func (k OpKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// needsState reports whether applying the kind depends on the current rules.
func (k OpKind) needsState() bool {
	switch k {
	case NewChain, AppendUnique, InsertUnique, EnsureFirst, DeleteChain, Flush:
		return true
	}
	return false
}

// Op is one operation on the firewall.
type Op struct {
	Kind OpKind
	// Rule names the table and chain, and for rule operations the rule.
	Rule Rule
	// Pos is the 1-based insert position of Insert and InsertUnique; 0
	// means 1.
	Pos int
	// Policy is the target of a Policy operation: ACCEPT or DROP.
	Policy string
}

// String renders the op as the shell commands it stands for, e.g.
// "iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"
// (ip6tables for a rule of family IPv6).
func (o Op) String() string {
	ipt := o.Rule.Family.Command()
	if o.Rule.Table != TableFilter {
		ipt += " -t " + o.Rule.Table
	}
	c, spec := o.Rule.Chain, o.Rule.specString()
	switch o.Kind {
	case NewChain:
		return fmt.Sprintf("%s -L %s >/dev/null 2>&1 || %s -N %s", ipt, c, ipt, c)
	case Append:
		return fmt.Sprintf("%s -A %s %s", ipt, c, spec)
	case AppendUnique:
		return fmt.Sprintf("%s -C %s %s || %s -A %s %s", ipt, c, spec, ipt, c, spec)
	case Insert:
		return fmt.Sprintf("%s -I %s%s %s", ipt, c, posArg(o.Pos), spec)
	case InsertUnique:
		return fmt.Sprintf("%s -C %s %s || %s -I %s%s %s", ipt, c, spec, ipt, c, posArg(o.Pos), spec)
	case EnsureFirst:
		return fmt.Sprintf("%s -D %s %s; %s -I %s %s", ipt, c, spec, ipt, c, spec)
	case Delete:
		return fmt.Sprintf("%s -D %s %s", ipt, c, spec)
	case Policy:
		return fmt.Sprintf("%s -P %s %s", ipt, c, o.Policy)
	case DeleteChain:
		return fmt.Sprintf("%s -F %s && %s -X %s", ipt, c, ipt, c)
	case Flush:
		return fmt.Sprintf("%s -F %s", ipt, c)
	}
	return fmt.Sprintf("%v %s %s", o.Kind, c, spec)
}

func posArg(pos int) string {
	if pos <= 1 {
		return ""
	}
	return " " + strconv.Itoa(pos)
}
