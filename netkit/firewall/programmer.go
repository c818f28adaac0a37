package firewall

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/coreos/go-iptables/iptables"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/netns"
)

// ErrDrift is returned by Check when the namespace's rules differ from what
// the operations should have produced.
var ErrDrift = errors.New("firewall rules differ from the expected state")

// Options configures a Programmer. The zero value uses iptables-restore,
// iptables-save and iptables from PATH and logs nothing.
type Options struct {
	// Family is the family of the rules the Programmer applies: IPv4 (the
	// zero value) runs iptables-restore, iptables-save and iptables,
	// IPv6 ip6tables-restore, ip6tables-save and ip6tables. It refuses an
	// operation on a rule of the other family.
	Family Family
	// Logf, when set, receives one line per tolerated problem (a rule to
	// delete that was already gone, a rollback). It must be safe for
	// concurrent use.
	Logf func(format string, args ...any)
}

// Programmer applies operations to the iptables (or, with Options.Family
// IPv6, ip6tables) rules of one network namespace. Every command runs
// inside the namespace (iptables-restore and iptables-save started there,
// go-iptables calls made from a thread inside it); nothing ever touches
// the caller's namespace.
//
// A Programmer serialises its own calls. Use one Programmer per namespace
// and family: two of them on the same namespace and family could resolve
// conditional operations against rules the other is changing. The two
// families' rules are apart in the kernel, so an IPv4 and an IPv6
// Programmer of one namespace do not meet.
type Programmer struct {
	ns   *netns.NS
	fam  Family
	logf func(format string, args ...any)

	// mu is held while a command runs in the namespace (one at a time).
	mu sync.Mutex
	// hasTables (under mu) is set once the namespace is known to have a
	// table of the family, which it keeps: state stops asking (see
	// noTables).
	hasTables bool

	// Plain batches that arrive while another is being applied are then
	// applied together, by one of their callers, with one
	// iptables-restore: see runPlain.
	plain batch.Group[[]cmd]

	iptOnce sync.Once
	ipt     *iptables.IPTables
	iptErr  error
}

// NewProgrammer returns a Programmer for the namespace ns. It runs nothing
// until it is used.
func NewProgrammer(ns *netns.NS, opts Options) *Programmer {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	p := &Programmer{ns: ns, fam: opts.Family, logf: logf}
	p.plain.Run = p.runPlain
	return p
}

// Apply performs ops in order with a single iptables-restore --noflush run
// inside the namespace.
//
// Operations that depend on the current rules (NewChain, AppendUnique,
// InsertUnique, EnsureFirst, DeleteChain, Flush, as produced by Start,
// AddNetwork and ResolverNAT) are first resolved against one iptables-save
// of the namespace; a batch without them (AddBindings, RemoveBindings, endpoints) is
// applied without reading anything.
//
// A Delete whose rule is already gone is not an error. In a batch resolved
// against the current rules such a delete is simply left out. In a plain
// batch, if the restore fails on a delete, the deletes not yet applied are
// checked one by one with iptables -C, those whose rule is missing are
// dropped (and logged), and the rest is applied once more: removing a
// container always leaves none of its rules behind.
//
// iptables-restore commits table by table. When a later table fails for
// another reason, the rules that the earlier tables of the same call added
// are deleted again before the error, which carries iptables-restore's
// output and the failing line, is returned.
//
// Apply is safe for concurrent use. Plain batches of concurrent calls are
// applied together (see runPlain); each call still returns only its own
// batch's outcome.
func (p *Programmer) Apply(ops []Op) error {
	return p.ApplyAnnounced(ops, nil)
}

// Expect announces n calls of ApplyAnnounced that the caller is about to
// make (a container being started or stopped): a merged batch that starts
// meanwhile waits a little for them (see package batch). Release the
// ticket once they are made.
func (p *Programmer) Expect(n int) *batch.Ticket { return p.plain.Expect(n) }

// ApplyAnnounced is Apply for a call that t announced.
func (p *Programmer) ApplyAnnounced(ops []Op, t *batch.Ticket) error {
	if len(ops) == 0 {
		return nil
	}
	if err := p.checkFamily(ops); err != nil {
		return fmt.Errorf("applying firewall rules: %w", err)
	}
	if !slices.ContainsFunc(ops, func(o Op) bool { return o.Kind.needsState() }) {
		cmds, err := plainCommands(ops)
		if err != nil {
			return fmt.Errorf("applying firewall rules: %w", err)
		}
		if err := p.plain.Do(cmds, t); err != nil {
			return fmt.Errorf("applying firewall rules: %w", err)
		}
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rs, err := p.state()
	if err != nil {
		return fmt.Errorf("applying firewall rules: %w", err)
	}
	cmds, err := rs.resolve(ops)
	if err != nil {
		return fmt.Errorf("applying firewall rules: %w", err)
	}
	if err := p.run(cmds, true); err != nil {
		return fmt.Errorf("applying firewall rules: %w", err)
	}
	p.hasTables = p.hasTables || len(cmds) > 0
	return nil
}

// runPlain applies plain batches of concurrent callers (package batch)
// with one iptables-restore: one costs about 2 ms whatever it holds, so a
// lab that starts or removes containers in parallel pays it once per group
// rather than once per container. A merged batch that fails is undone as
// any failed batch is (see run), and then every caller's batch is applied
// on its own, so that each caller gets exactly the outcome and error it
// would have had alone. A caller that runs alone (the usual case in a
// scenario) pays nothing extra.
func (p *Programmer) runPlain(batches [][]cmd) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := make([]error, len(batches))
	if len(batches) == 1 {
		errs[0] = p.run(batches[0], true)
		return errs
	}
	var all []cmd
	for _, b := range batches {
		all = append(all, b...)
	}
	err := p.run(all, true)
	if err == nil {
		return errs
	}
	p.logf("firewall: a merged batch of %d failed, applying each on its own: %v", len(batches), err)
	for i, b := range batches {
		errs[i] = p.run(b, true)
	}
	return errs
}

// Family is the family of the rules p applies.
func (p *Programmer) Family() Family { return p.fam }

// checkFamily refuses operations on rules of the other family than p's.
func (p *Programmer) checkFamily(ops []Op) error {
	for _, o := range ops {
		if o.Rule.Family != p.fam {
			return fmt.Errorf("%w: %s rule given to the %s programmer: %q", ErrRuleset, o.Rule.Family, p.fam, o.String())
		}
	}
	return nil
}

// plainCommands renders operations that do not depend on the current rules.
func plainCommands(ops []Op) ([]cmd, error) {
	cmds := make([]cmd, 0, len(ops))
	for i, o := range ops {
		var args []string
		switch o.Kind {
		case Append:
			args = append([]string{"-A", o.Rule.Chain}, o.Rule.Spec...)
		case Insert:
			args = append([]string{"-I", o.Rule.Chain, strconv.Itoa(max(o.Pos, 1))}, o.Rule.Spec...)
		case Delete:
			args = append([]string{"-D", o.Rule.Chain}, o.Rule.Spec...)
		case Policy:
			args = []string{"-P", o.Rule.Chain, o.Policy}
		default:
			return nil, fmt.Errorf("%w: operation %v needs the current rules", ErrRuleset, o.Kind)
		}
		if o.Rule.Chain == "" || ((o.Kind != Policy) && len(o.Rule.Spec) == 0) {
			return nil, fmt.Errorf("%w: incomplete operation %q", ErrRuleset, o.String())
		}
		cmds = append(cmds, cmd{table: o.Rule.Table, args: args, op: i})
	}
	return cmds, nil
}

// run applies cmds. With tolerate, a failed delete of a missing rule is
// dropped and the remainder retried once.
func (p *Programmer) run(cmds []cmd, tolerate bool) error {
	blocks := group(cmds)
	script, lines, err := render(blocks)
	if err != nil {
		return err
	}
	err = p.restore(script)
	if err == nil {
		return nil
	}
	var rerr *restoreError
	if !errors.As(err, &rerr) {
		return err
	}
	at, ok := lines[rerr.line]
	if !ok {
		// iptables-restore did not say where it failed; nothing is known
		// about which tables were committed.
		return err
	}
	committed := blocks[:at.block]
	if at.cmd >= 0 {
		rerr.cmd = strings.Join(blocks[at.block].cmds[at.cmd].args, " ")
	}
	if !tolerate || at.cmd < 0 || !blocks[at.block].cmds[at.cmd].isDelete() {
		p.rollback(committed)
		return err
	}
	var rest []cmd
	for _, b := range blocks[at.block:] {
		rest = append(rest, b.cmds...)
	}
	kept, dropped, xerr := p.dropMissing(rest)
	if xerr != nil {
		p.rollback(committed)
		return errors.Join(err, xerr)
	}
	if dropped == 0 {
		p.rollback(committed)
		return err
	}
	if len(kept) == 0 {
		return nil
	}
	if err := p.run(kept, false); err != nil {
		p.rollback(committed)
		return err
	}
	return nil
}

// dropMissing removes from cmds the deletes whose rule is not in the
// namespace, asking the kernel with iptables -C (go-iptables Exists).
func (p *Programmer) dropMissing(cmds []cmd) (kept []cmd, dropped int, err error) {
	ipt, err := p.iptables()
	if err != nil {
		return nil, 0, err
	}
	err = p.ns.Do(func() error {
		for _, c := range cmds {
			if c.isDelete() {
				ok, err := ipt.Exists(c.table, c.args[1], c.args[2:]...)
				if err != nil && !isNotExist(err) {
					return fmt.Errorf("checking rule %q in table %q: %w", strings.Join(c.args[1:], " "), c.table, err)
				}
				if !ok {
					p.logf("firewall: rule already gone: -t %s %s", c.table, strings.Join(c.args, " "))
					dropped++
					continue
				}
			}
			kept = append(kept, c)
		}
		return nil
	})
	return kept, dropped, err
}

// rollback undoes what committed blocks added (appends, inserts, new
// chains). Deletes and policy changes cannot be undone and are only logged.
func (p *Programmer) rollback(committed []block) {
	var undo []cmd
	for bi := len(committed) - 1; bi >= 0; bi-- {
		b := committed[bi]
		for ci := len(b.cmds) - 1; ci >= 0; ci-- {
			c := b.cmds[ci]
			switch c.args[0] {
			case "-A":
				undo = append(undo, cmd{table: c.table, args: append([]string{"-D"}, c.args[1:]...)})
			case "-I":
				undo = append(undo, cmd{table: c.table, args: append([]string{"-D", c.args[1]}, c.args[3:]...)})
			case "-N":
				undo = append(undo, cmd{table: c.table, args: []string{"-X", c.args[1]}})
			default:
				p.logf("firewall: cannot roll back -t %s %s", c.table, strings.Join(c.args, " "))
			}
		}
	}
	if len(undo) == 0 {
		return
	}
	if err := p.run(undo, true); err != nil {
		p.logf("firewall: rolling back a failed batch: %v", err)
	}
}

// Check verifies, with go-iptables inside the namespace, that the rules are
// as ops leave them: every chain created exists, every rule added (and not
// deleted later in ops) is present, every rule deleted is absent, every
// policy is set. It checks presence, not order (the golden tests check
// order). Differences are reported together, wrapped in ErrDrift.
//
// Equivalent to: iptables -C … / iptables -S CHAIN 1 for each rule and chain
// (ip6tables for an IPv6 Programmer).
func (p *Programmer) Check(ops []Op) error {
	if err := p.checkFamily(ops); err != nil {
		return fmt.Errorf("checking firewall rules: %w", err)
	}
	type key struct{ table, chain, spec string }
	var order []key
	want := map[key]bool{}
	rules := map[key][]string{}
	set := func(k key, v bool) {
		if _, ok := want[k]; !ok {
			order = append(order, k)
		}
		want[k] = v
	}
	policies := map[key]string{}
	for _, o := range ops {
		k := key{o.Rule.Table, o.Rule.Chain, o.Rule.specString()}
		switch o.Kind {
		case NewChain:
			set(key{k.table, k.chain, ""}, true)
		case DeleteChain:
			set(key{k.table, k.chain, ""}, false)
		case Policy:
			policies[key{k.table, k.chain, ""}] = o.Policy
		case Delete:
			set(k, false)
			rules[k] = o.Rule.Spec
		default:
			set(k, true)
			rules[k] = o.Rule.Spec
		}
	}
	ipt, err := p.iptables()
	if err != nil {
		return fmt.Errorf("checking firewall rules: %w", err)
	}
	var drift []error
	err = p.ns.Do(func() error {
		for _, k := range order {
			var ok bool
			var err error
			if k.spec == "" {
				ok, err = ipt.ChainExists(k.table, k.chain)
			} else {
				ok, err = ipt.Exists(k.table, k.chain, rules[k]...)
			}
			if err != nil && !isNotExist(err) {
				return fmt.Errorf("checking %s %s %s: %w", k.table, k.chain, k.spec, err)
			}
			if ok != want[k] {
				what := "rule -A " + k.chain + " " + k.spec
				if k.spec == "" {
					what = "chain " + k.chain
				}
				state := "missing"
				if ok {
					state = "present"
				}
				drift = append(drift, fmt.Errorf("table %s: %s is %s", k.table, what, state))
			}
		}
		for k, pol := range policies {
			lines, err := ipt.List(k.table, k.chain)
			if err != nil {
				return fmt.Errorf("listing %s %s: %w", k.table, k.chain, err)
			}
			if len(lines) == 0 || lines[0] != "-P "+k.chain+" "+pol {
				drift = append(drift, fmt.Errorf("table %s: chain %s policy is not %s", k.table, k.chain, pol))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("checking firewall rules: %w", err)
	}
	if len(drift) > 0 {
		return fmt.Errorf("%w: %w", ErrDrift, errors.Join(drift...))
	}
	return nil
}

// Teardown removes what is left of an engine's rules once its networks are
// gone: every DOCKER* chain, every rule that jumps to one, and (when the
// engine had set it) the FORWARD DROP policy. It reads the tables back ("the
// hard way"), so it also cleans what an earlier engine left, and replaces
// only the tables it changes.
//
// Equivalent to: iptables-save -t T | grep -v DOCKER | iptables-restore -w
// (ip6tables-save and ip6tables-restore for an IPv6 Programmer)
func (p *Programmer) Teardown(resetForwardPolicy bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, table := range DefaultTables {
		out, err := p.output(p.tool("-save"), "-t", table)
		if err != nil {
			return fmt.Errorf("removing the engine's %s rules: %w", table, err)
		}
		var b strings.Builder
		changed := false
		for line := range strings.Lines(out) {
			switch {
			case strings.HasPrefix(line, ":DOCKER"), strings.HasPrefix(line, "-A DOCKER"),
				strings.HasPrefix(line, "-A") && strings.Contains(line, "-j DOCKER"):
				changed = true
				continue
			case table == TableFilter && resetForwardPolicy && strings.HasPrefix(line, ":FORWARD DROP"):
				line = strings.Replace(line, "DROP", "ACCEPT", 1)
				changed = true
			}
			b.WriteString(line)
		}
		if !changed {
			continue
		}
		if err := p.restoreWith(b.String()); err != nil {
			return fmt.Errorf("removing the engine's %s rules: %w", table, err)
		}
	}
	return nil
}
