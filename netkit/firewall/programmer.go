package firewall

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/coreos/go-iptables/iptables"
	"github.com/google/nftables"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/netns"
)

// ErrDrift is returned by Check when the namespace's rules differ from what
// the operations should have produced.
var ErrDrift = errors.New("firewall rules differ from the expected state")

// Options configures a Programmer. The zero value uses iptables-restore,
// iptables-save and iptables from PATH and logs nothing.
type Options struct {
	// Logf, when set, receives one line per tolerated problem (a rule to
	// delete that was already gone, a rollback). It must be safe for
	// concurrent use.
	Logf func(format string, args ...any)
}

// Programmer applies operations to the IPv4 iptables rules of one network
// namespace. Every command runs inside the namespace (iptables-restore and
// iptables-save started there, go-iptables calls made from a thread inside
// it); nothing ever touches the caller's namespace.
//
// A Programmer serialises its own calls. Use one Programmer per namespace:
// two of them on the same namespace could resolve conditional operations
// against rules the other is changing.
type Programmer struct {
	ns   *netns.NS
	logf func(format string, args ...any)

	// mu is held while a command runs in the namespace (one at a time).
	mu sync.Mutex
	// hasTables (under mu) is set once the namespace is known to have an
	// IPv4 table, which it keeps: state stops asking (see noTables).
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
	p := &Programmer{ns: ns, logf: logf}
	p.plain.Run = p.runPlain
	return p
}

// Apply performs ops in order with a single iptables-restore --noflush run
// inside the namespace.
//
// Operations that depend on the current rules (NewChain, AppendUnique,
// InsertUnique, EnsureFirst, DeleteChain, as produced by Start and
// AddNetwork) are first resolved against one iptables-save of the
// namespace; a batch without them (AddPorts, RemovePorts, endpoints) is
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

// block is one table's share of a restore script, committed on its own.
type block struct {
	table string
	cmds  []cmd
}

// group splits cmds by table, keeping their order within each table and
// ordering tables by first appearance.
func group(cmds []cmd) []block {
	var blocks []block
	for _, c := range cmds {
		i := slices.IndexFunc(blocks, func(b block) bool { return b.table == c.table })
		if i < 0 {
			blocks = append(blocks, block{table: c.table})
			i = len(blocks) - 1
		}
		blocks[i].cmds = append(blocks[i].cmds, c)
	}
	return blocks
}

// where locates a script line: the block and the command within it (cmd -1
// for the *table and COMMIT lines).
type where struct{ block, cmd int }

// render writes blocks as iptables-restore input and maps each line number
// (1-based) to its command.
func render(blocks []block) (string, map[int]where, error) {
	var sb strings.Builder
	lines := map[int]where{}
	n := 0
	for bi, b := range blocks {
		n++
		lines[n] = where{bi, -1}
		sb.WriteString("*" + b.table + "\n")
		for ci, c := range b.cmds {
			for _, a := range c.args {
				if a == "" || strings.ContainsAny(a, " \t\n\"'") {
					return "", nil, fmt.Errorf("%w: argument %q cannot be written to iptables-restore", ErrRuleset, a)
				}
			}
			n++
			lines[n] = where{bi, ci}
			sb.WriteString(strings.Join(c.args, " ") + "\n")
		}
		n++
		lines[n] = where{bi, -1}
		sb.WriteString("COMMIT\n")
	}
	return sb.String(), lines, nil
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

// restoreError is a failed iptables-restore run, with its output.
type restoreError struct {
	line   int    // script line it reported, 0 if none
	cmd    string // that line, when it is a command
	stderr string
	err    error
}

func (e *restoreError) Error() string {
	msg := "iptables-restore: " + e.err.Error() + ": " + strings.TrimSpace(e.stderr)
	if e.cmd != "" {
		msg += " (" + e.cmd + ")"
	}
	return msg
}

func (e *restoreError) Unwrap() error { return e.err }

// lineRE finds the script line iptables-restore complains about, in its
// various forms ("line 3 failed", "Error occurred at line: 3",
// "line 2: CHAIN_DEL failed").
var lineRE = regexp.MustCompile(`line:? (\d+)`)

func failedLine(stderr string) int {
	m := lineRE.FindStringSubmatch(stderr)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// restore runs iptables-restore --noflush -w inside the namespace with
// script on its standard input.
func (p *Programmer) restore(script string) error {
	return p.restoreWith(script, "--noflush")
}

// restoreWith runs iptables-restore -w with extra flags inside the
// namespace; without --noflush it replaces each table the script names.
func (p *Programmer) restoreWith(script string, flags ...string) error {
	c := exec.Command("iptables-restore", append([]string{"-w"}, flags...)...)
	c.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	c.Stdout = &out
	c.Stderr = &out
	if err := p.ns.Start(c, netns.StartOptions{}); err != nil {
		return err
	}
	if err := c.Wait(); err != nil {
		return &restoreError{line: failedLine(out.String()), stderr: out.String(), err: err}
	}
	return nil
}

// output runs name args… inside the namespace and returns its standard
// output.
func (p *Programmer) output(name string, args ...string) (string, error) {
	c := exec.Command(name, args...)
	var out, stderr bytes.Buffer
	c.Stdout = &out
	c.Stderr = &stderr
	if err := p.ns.Start(c, netns.StartOptions{}); err != nil {
		return "", err
	}
	if err := c.Wait(); err != nil {
		return "", fmt.Errorf("running %s: %w: %s", strings.Join(c.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

// state reads the namespace's rules (all tables, one iptables-save). A
// namespace without any IPv4 table has no rules, which needs no
// iptables-save (a fresh engine's first batch).
func (p *Programmer) state() (*ruleset, error) {
	if !p.hasTables {
		empty, err := p.noTables()
		if err == nil && empty {
			return newRuleset(), nil
		}
		p.hasTables = err == nil
	}
	out, err := p.output("iptables-save")
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	rs := newRuleset()
	if err := rs.parseSave(out); err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return rs, nil
}

// noTables reports whether the namespace has no IPv4 table at all, for
// either kind of iptables: no nf_tables table of family ip (iptables-nft
// makes its tables there on first use) and none in x_tables (iptables-legacy,
// /proc/net/ip_tables_names). Any table, even an empty one or one that is
// not iptables' (nft's own), answers false. It costs two requests where an
// iptables-save costs a process.
//
// Equivalent to: [ -z "$(nft list tables ip)" ] && [ ! -s /proc/net/ip_tables_names ]
func (p *Programmer) noTables() (bool, error) {
	var legacy []byte
	err := p.ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/ip_tables_names")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		legacy = b
		return nil
	})
	if err != nil || len(bytes.TrimSpace(legacy)) > 0 {
		return false, err
	}
	// The socket is made inside the namespace by the library (its fd
	// option), never in the caller's.
	fd := p.ns.Fd()
	if fd < 0 {
		return false, netns.ErrClosed
	}
	c, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return false, err
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, err
	}
	return len(tables) == 0, nil
}

// DefaultTables are the tables Save dumps when given none, in the order of
// Docker's own golden files.
var DefaultTables = []string{TableRaw, TableFilter, TableNAT}

// Save returns the rules of the given tables (default DefaultTables) as
// `iptables-save -t TABLE` prints them one after the other, without the
// "# Generated"/"# Completed" comment lines and with chain counters zeroed,
// so that it can be compared with golden files and Docker's documentation.
// With iptables-nft, "-t raw" prints the built-in chains even before
// anything used the table, as in Docker's own dumps, so nothing has to touch
// it first.
//
// Equivalent to: for t in raw filter nat; do iptables-save -t $t; done
func (p *Programmer) Save(tables ...string) (string, error) {
	if len(tables) == 0 {
		tables = DefaultTables
	}
	var sb strings.Builder
	for _, t := range tables {
		out, err := p.output("iptables-save", "-t", t)
		if err != nil {
			return "", fmt.Errorf("saving table %q: %w", t, err)
		}
		sb.WriteString(Normalize(out))
	}
	return sb.String(), nil
}

var countersRE = regexp.MustCompile(`\[\d+:\d+\]$`)

// Normalize strips iptables-save's comment lines and zeroes its chain
// counters.
func Normalize(save string) string {
	var sb strings.Builder
	for line := range strings.Lines(save) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, ":") {
			line = countersRE.ReplaceAllString(line, "[0:0]")
		}
		sb.WriteString(line + "\n")
	}
	return sb.String()
}

// Check verifies, with go-iptables inside the namespace, that the rules are
// as ops leave them: every chain created exists, every rule added (and not
// deleted later in ops) is present, every rule deleted is absent, every
// policy is set. It checks presence, not order (the golden tests check
// order). Differences are reported together, wrapped in ErrDrift.
//
// Equivalent to: iptables -C … / iptables -S CHAIN 1 for each rule and chain.
func (p *Programmer) Check(ops []Op) error {
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

// iptables returns the go-iptables handle, created on first use. Creating
// it runs `iptables --version`, which reads no rules.
func (p *Programmer) iptables() (*iptables.IPTables, error) {
	p.iptOnce.Do(func() {
		p.ipt, p.iptErr = iptables.New(iptables.IPFamily(iptables.ProtocolIPv4))
		if p.iptErr != nil {
			p.iptErr = fmt.Errorf("finding iptables: %w", p.iptErr)
		}
	})
	return p.ipt, p.iptErr
}

// isNotExist reports whether err is iptables saying a chain or rule does not
// exist. It is the one place that interprets go-iptables' stderr matching.
var isNotExist = func(err error) bool {
	var e *iptables.Error
	return errors.As(err, &e) && e.IsNotExist()
}

// Teardown removes what is left of an engine's rules once its networks are
// gone: every DOCKER* chain, every rule that jumps to one, and (when the
// engine had set it) the FORWARD DROP policy. It reads the tables back ("the
// hard way"), so it also cleans what an earlier engine left, and replaces
// only the tables it changes.
//
// Equivalent to: iptables-save -t T | grep -v DOCKER | iptables-restore -w
func (p *Programmer) Teardown(resetForwardPolicy bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, table := range DefaultTables {
		out, err := p.output("iptables-save", "-t", table)
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
