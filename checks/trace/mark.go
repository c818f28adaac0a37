package trace

import (
	"fmt"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// TablePrefix starts the name of the tables a trace adds to each
// namespace it watches, for as long as it runs: `table inet
// labrun-trace-1a2b`, and `table bridge labrun-trace-1a2b` where the
// namespace has a bridge. The suffix is the trace's own, so that two
// traces of one lab at once (two shells of a live lab) each add and
// remove their own tables.
const TablePrefix = "labrun-trace"

// isOwnTable reports whether a table is a trace's.
func isOwnTable(name string) bool { return strings.HasPrefix(name, TablePrefix+"-") }

// Where the trace's own chains sit. Marking happens before anything of
// Docker's (its raw chains are at -300, conntrack at -200): a packet is
// marked on entering a namespace (prerouting) or on leaving the socket that
// sent it (output), and nf_tables then reports every rule it meets in that
// namespace. The observation chains, at the end of input and postrouting,
// hold no rule: their policy event shows the packet as it leaves the
// namespace's netfilter, after every rewrite (SNAT, MASQUERADE).
const (
	markPriority = -350
	lastPriority = 10000
)

// The trace's chains, named for their hooks.
const (
	chainPre  = "pre"
	chainOut  = "out"
	chainIn   = "in"
	chainPost = "post"
)

// match says which packets are the traced connection's: those of transport
// protocol Proto with Port as source or destination port (TCP, UDP), or
// ICMP echo requests and replies with identifier EchoID. Port is the
// source port the trace bound before connecting, which NAT keeps (DNAT
// changes the destination; MASQUERADE keeps the port when it is free).
type match struct {
	Proto  uint8
	Port   uint16
	EchoID uint16
	// Table is the name of the trace's tables.
	Table string
}

// markRules are the rules that set nftrace on the traced connection's
// packets, both directions: `meta l4proto tcp th sport P meta nftrace set
// 1` and the same with dport; for ping, `icmp type echo-request icmp id X
// meta nftrace set 1` and the same for the echo reply (and ICMPv6's).
func (m match) markRules() [][]expr.Any {
	set := []expr.Any{
		&expr.Immediate{Register: 1, Data: []byte{1}},
		&expr.Meta{Key: expr.MetaKeyNFTRACE, SourceRegister: true, Register: 1},
	}
	l4 := func(proto uint8) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		}
	}
	th := func(off, size uint32, data []byte) []expr.Any {
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: size},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
		}
	}
	var rules [][]expr.Any
	rule := func(parts ...[]expr.Any) {
		var r []expr.Any
		for _, p := range parts {
			r = append(r, p...)
		}
		rules = append(rules, append(r, set...))
	}
	switch m.Proto {
	case unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		id := binaryutil.BigEndian.PutUint16(m.EchoID)
		for _, icmp := range []struct{ proto, req, rep uint8 }{{unix.IPPROTO_ICMP, 8, 0}, {unix.IPPROTO_ICMPV6, 128, 129}} {
			for _, typ := range []uint8{icmp.req, icmp.rep} {
				rule(l4(icmp.proto), th(0, 1, []byte{typ}), th(4, 2, id))
			}
		}
	default:
		port := binaryutil.BigEndian.PutUint16(m.Port)
		rule(l4(m.Proto), th(0, 2, port))
		rule(l4(m.Proto), th(2, 2, port))
	}
	return rules
}

// mark adds the trace's tables to ns: in `table inet labrun-trace-1a2b`, the
// chains pre and out that mark the connection's packets and the empty
// chains in and post that observe them last; with bridge, also `table
// bridge labrun-trace-1a2b` with pre and post, which show the ports a frame
// enters and leaves a bridge by.
//
// Equivalent to: nft -f - <<'EOF'
//
//	table inet labrun-trace-1a2b {
//		chain pre { type filter hook prerouting priority -350; tcp sport P meta nftrace set 1; tcp dport P meta nftrace set 1 }
//		chain out { type filter hook output priority -350; (the same rules) }
//		chain in { type filter hook input priority 10000; }
//		chain post { type filter hook postrouting priority 10000; }
//	}
//	table bridge labrun-trace-1a2b { chain pre {...}; chain post {...} }
//	EOF
func mark(ns *netns.NS, m match, bridge bool) error {
	c, err := nftConn(ns)
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	accept := nftables.ChainPolicyAccept
	add := func(t *nftables.Table, name string, hook *nftables.ChainHook, prio int32, marks bool) {
		ch := c.AddChain(&nftables.Chain{Name: name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: hook, Priority: nftables.ChainPriorityRef(nftables.ChainPriority(prio)), Policy: &accept})
		if !marks {
			return
		}
		for _, r := range m.markRules() {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: r})
		}
	}
	inet := c.AddTable(&nftables.Table{Name: m.Table, Family: nftables.TableFamilyINet})
	add(inet, chainPre, nftables.ChainHookPrerouting, markPriority, true)
	add(inet, chainOut, nftables.ChainHookOutput, markPriority, true)
	add(inet, chainIn, nftables.ChainHookInput, lastPriority, false)
	add(inet, chainPost, nftables.ChainHookPostrouting, lastPriority, false)
	if bridge {
		br := c.AddTable(&nftables.Table{Name: m.Table, Family: nftables.TableFamilyBridge})
		add(br, chainPre, nftables.ChainHookPrerouting, markPriority, true)
		add(br, chainPost, nftables.ChainHookPostrouting, lastPriority, true)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("adding table inet %s: %w", m.Table, err)
	}
	return nil
}

// unmark removes the trace's tables from ns, those that exist: the
// namespace's rule sets are again what they were before mark.
//
// Equivalent to: nft delete table inet labrun-trace-1a2b; nft delete table bridge labrun-trace-1a2b
func unmark(ns *netns.NS, table string) error {
	c, err := nftConn(ns)
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	for _, f := range []nftables.TableFamily{nftables.TableFamilyINet, nftables.TableFamilyBridge} {
		// Added first, so that deleting a missing table cannot fail.
		t := &nftables.Table{Name: table, Family: f}
		c.AddTable(t)
		c.DelTable(t)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("deleting table inet %s: %w", table, err)
	}
	return nil
}

// nftConn opens an nftables netlink connection whose socket is made inside
// ns; it must be closed with CloseLasting.
func nftConn(ns *netns.NS) (*nftables.Conn, error) {
	var c *nftables.Conn
	err := ns.Do(func() error {
		var err error
		c, err = nftables.New(nftables.AsLasting())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening nftables netlink: %w", err)
	}
	return c, nil
}
