package nft

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
)

// Programmer writes Rulesets into the nftables of one network namespace,
// over a netlink socket opened in it: nothing runs in, or touches, the
// caller's namespace. Its methods are safe for concurrent use.
type Programmer struct {
	nsFd int
	mu   sync.Mutex
}

// NewProgrammer returns a Programmer for the namespace open as nsFd (which
// must stay open while the Programmer is used).
func NewProgrammer(nsFd int) *Programmer { return &Programmer{nsFd: nsFd} }

func (p *Programmer) conn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(p.nsFd))
	if err != nil {
		return nil, fmt.Errorf("opening nftables netlink: %w", err)
	}
	return c, nil
}

// tableRef names a table: its family and its name.
type tableRef struct{ family, name string }

func (r tableRef) String() string { return "table " + r.family + " " + r.name }

func (r tableRef) table() *nftables.Table {
	f := nftables.TableFamilyIPv4
	if r.family == FamilyIPv6 {
		f = nftables.TableFamilyIPv6
	}
	return &nftables.Table{Name: r.name, Family: f}
}

// Apply replaces the tables of rss (each of its family and name) in one
// transaction: each table is created if missing, deleted and built again,
// so a reader never sees one half-built. nft lists tables in the order
// they were made, so a caller passes every table, in Docker's order (ip,
// then ip6), each time.
//
// Equivalent to: nft -f - <<< "add table ip docker-bridges; delete table
// ip docker-bridges; $(rs)" (and the same for ip6)
func (p *Programmer) Apply(rss ...Ruleset) error {
	var refs []tableRef
	for _, rs := range rss {
		refs = append(refs, rs.ref())
	}
	return p.dropTables("programming", refs, func(c *nftables.Conn) error {
		for _, rs := range rss {
			if err := p.build(c, rs); err != nil {
				return err
			}
		}
		return nil
	})
}

// build queues, after the delete, the table made again with rs in it.
func (p *Programmer) build(c *nftables.Conn, rs Ruleset) error {
	t := c.AddTable(rs.ref().table())
	accept := nftables.ChainPolicyAccept
	chains := map[string]*nftables.Chain{}
	for _, ch := range rs.Chains {
		nc := &nftables.Chain{Name: ch.Name, Table: t}
		if ch.Hook != "" {
			nc.Type = nftables.ChainType(ch.Type)
			nc.Hooknum = hooks[ch.Hook]
			nc.Priority = priorities[ch.Priority]
			nc.Policy = &accept
		}
		chains[ch.Name] = c.AddChain(nc)
	}
	maps := map[string]mapRef{}
	for _, m := range rs.Maps {
		// An ifname key is host-endian data to nft, as nft itself
		// records in the set's userdata: without that, `nft list
		// ruleset` shows every element's key as "".
		s := &nftables.Set{Table: t, Name: m.Name, IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeVerdict,
			KeyByteOrder: binaryutil.NativeEndian}
		var els []nftables.SetElement
		for _, e := range m.Elements {
			els = append(els, nftables.SetElement{Key: ifname(e.Ifname),
				VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: e.Chain}})
		}
		if err := c.AddSet(s, els); err != nil {
			return fmt.Errorf("adding map %s: %w", m.Name, err)
		}
		maps[m.Name] = mapRef{name: s.Name, id: s.ID}
	}
	for _, ch := range rs.Chains {
		for _, r := range ch.Rules {
			var ex []expr.Any
			for _, s := range r.Stmts {
				ex = append(ex, s.exprs(maps)...)
			}
			nr := &nftables.Rule{Table: t, Chain: chains[ch.Name], Exprs: ex}
			if r.Comment != "" {
				nr.UserData = userdata.AppendString(nil, userdata.TypeComment, r.Comment)
			}
			c.AddRule(nr)
		}
	}
	return nil
}

// Delete removes both tables, ip and ip6, those that exist.
//
// Equivalent to: nft delete table ip docker-bridges; nft delete table ip6
// docker-bridges
func (p *Programmer) Delete() error {
	return p.dropTables("deleting", []tableRef{{FamilyIPv4, TableName}, {FamilyIPv6, TableName}}, nil)
}

// dropTables sends one transaction: delete the tables refs (each added
// first, so that the delete cannot fail on a missing table), then what
// then, if not nil, queues.
// doing names the work in the error of a failed send.
func (p *Programmer) dropTables(doing string, refs []tableRef, then func(c *nftables.Conn) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.conn()
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	var names []string
	for _, r := range refs {
		t := r.table()
		c.AddTable(t)
		c.DelTable(t)
		names = append(names, r.String())
	}
	if then != nil {
		if err := then(c); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("%s %s: %w", doing, strings.Join(names, " and "), err)
	}
	return nil
}

var hooks = map[string]*nftables.ChainHook{
	"prerouting":  nftables.ChainHookPrerouting,
	"forward":     nftables.ChainHookForward,
	"output":      nftables.ChainHookOutput,
	"postrouting": nftables.ChainHookPostrouting,
}

var priorities = map[string]*nftables.ChainPriority{
	"raw":    nftables.ChainPriorityRaw,
	"filter": nftables.ChainPriorityFilter,
	"dstnat": nftables.ChainPriorityNATDest,
	"srcnat": nftables.ChainPriorityNATSource,
}
