package firewall

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrRuleset is returned for an operation that the kernel would refuse
// (a rule in a missing chain, a jump to a missing chain, creating a chain
// that exists, deleting a chain still referenced).
var ErrRuleset = errors.New("invalid firewall operation")

// builtinChains lists each table's built-in chains in iptables-save order.
var builtinChains = map[string][]string{
	TableRaw:    {"PREROUTING", "OUTPUT"},
	TableMangle: {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	TableFilter: {"INPUT", "FORWARD", "OUTPUT"},
	TableNAT:    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
}

// Targets that are not chains. A -j to anything else must name a user chain
// of the same table.
var targets = map[string]bool{
	"ACCEPT": true, "DROP": true, "RETURN": true, "REJECT": true, "LOG": true,
	"MASQUERADE": true, "SNAT": true, "DNAT": true, "REDIRECT": true,
	"CHECKSUM": true, "MARK": true, "CONNMARK": true, "NOTRACK": true, "CT": true,
	"TCPMSS": true, "TPROXY": true, "NFLOG": true, "NFQUEUE": true,
}

// table is one iptables table in memory: policies of the built-in chains
// and the rules of every chain, each rule kept as its spec string.
type table struct {
	name     string
	builtins []string          // built-in chains in iptables-save order
	policies map[string]string // built-in chain → policy
	chains   map[string][]string
}

// ruleset is an in-memory model of a namespace's IPv4 rules, as
// iptables-save shows them. The Programmer resolves operations that depend
// on the current rules against it, and tests render it to compare with the
// kernel's goldens.
type ruleset struct {
	tables map[string]*table
}

func newRuleset() *ruleset { return &ruleset{tables: map[string]*table{}} }

// table returns table name, creating it with its built-in chains (policy
// ACCEPT, no rules) as the kernel does on first use.
func (rs *ruleset) table(name string) (*table, error) {
	if t, ok := rs.tables[name]; ok {
		return t, nil
	}
	builtins, ok := builtinChains[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown table %q", ErrRuleset, name)
	}
	t := newTable(name)
	for _, c := range builtins {
		t.addBuiltin(c, "ACCEPT")
	}
	rs.tables[name] = t
	return t, nil
}

func newTable(name string) *table {
	return &table{name: name, policies: map[string]string{}, chains: map[string][]string{}}
}

func (t *table) addBuiltin(chain, policy string) {
	if !t.builtin(chain) {
		t.builtins = append(t.builtins, chain)
	}
	t.policies[chain] = policy
	if _, ok := t.chains[chain]; !ok {
		t.chains[chain] = nil
	}
}

func (t *table) builtin(chain string) bool {
	_, ok := t.policies[chain]
	return ok
}

// parseSave reads iptables-save output (any number of tables) into rs,
// replacing the tables it contains. A table this package does not know
// (security, …) is kept as read: its chains with a policy are its built-ins.
func (rs *ruleset) parseSave(s string) error {
	var t *table
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			name := line[1:]
			delete(rs.tables, name)
			if _, known := builtinChains[name]; known {
				t, _ = rs.table(name)
			} else {
				t = newTable(name)
				rs.tables[name] = t
			}
		case line == "COMMIT":
			t = nil
		case t == nil:
			return fmt.Errorf("parsing iptables-save line %d: %q outside a table", n, line)
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				return fmt.Errorf("parsing iptables-save line %d: bad chain line %q", n, line)
			}
			if f[1] != "-" {
				t.addBuiltin(f[0], f[1])
			} else {
				t.chains[f[0]] = nil
			}
		case strings.HasPrefix(line, "-A "):
			chain, spec, _ := strings.Cut(line[3:], " ")
			if _, ok := t.chains[chain]; !ok {
				return fmt.Errorf("parsing iptables-save line %d: rule in unknown chain %q", n, chain)
			}
			t.chains[chain] = append(t.chains[chain], spec)
		default:
			return fmt.Errorf("parsing iptables-save line %d: unexpected %q", n, line)
		}
	}
	return sc.Err()
}

// saveOrder is the order in which iptables-save (nf_tables) prints the
// tables it knows, whatever the order they were created in.
var saveOrder = []string{TableMangle, "security", TableRaw, TableFilter, TableNAT}

// save renders the rules without comments and with zero counters. With no
// tables it is iptables-save: every table that exists, in saveOrder (tables
// it does not know last, by name). A table exists once an operation created
// something in it, as in the kernel: a fresh namespace, or one where
// nothing but deletes of missing rules happened, prints nothing (a real
// engine with --iptables=false leaves iptables-save empty, and it has no
// raw table before its first per-endpoint raw rule). With tables it is
// iptables-save -t TABLE for each, one after the other: a table that does
// not exist shows its built-in chains with policy ACCEPT, as iptables-nft
// prints it.
func (rs *ruleset) save(tables ...string) (string, error) {
	all := len(tables) == 0
	if all {
		for name := range rs.tables {
			if !slices.Contains(saveOrder, name) {
				tables = append(tables, name)
			}
		}
		slices.Sort(tables)
		tables = append(slices.Clone(saveOrder), tables...)
	}
	var sb strings.Builder
	for _, name := range tables {
		t, ok := rs.tables[name]
		if !ok && all {
			continue
		}
		if !ok {
			var err error
			if t, err = newRuleset().table(name); err != nil {
				return "", err
			}
		}
		sb.WriteString("*" + name + "\n")
		order := t.chainOrder()
		for _, c := range order {
			if p, ok := t.policies[c]; ok {
				sb.WriteString(":" + c + " " + p + " [0:0]\n")
			} else {
				sb.WriteString(":" + c + " - [0:0]\n")
			}
		}
		for _, c := range order {
			for _, spec := range t.chains[c] {
				sb.WriteString("-A " + c + " " + spec + "\n")
			}
		}
		sb.WriteString("COMMIT\n")
	}
	return sb.String(), nil
}

// chainOrder is built-in chains in kernel order, then user chains sorted by
// name (iptables-nft sorts them).
func (t *table) chainOrder() []string {
	order := slices.Clone(t.builtins)
	var user []string
	for c := range t.chains {
		if !t.builtin(c) {
			user = append(user, c)
		}
	}
	slices.Sort(user)
	return append(order, user...)
}

// cmd is one resolved iptables-restore command: no longer conditional on the
// current rules.
type cmd struct {
	table string
	args  []string // e.g. ["-A", "DOCKER", "-d", …]
	op    int      // index of the Op it came from
}

func (c cmd) isDelete() bool { return c.args[0] == "-D" }

// resolve applies ops to rs in order and returns the unconditional commands
// that do the same to the kernel: conditional kinds are decided against the
// model, and deletes of rules that are not there are dropped.
func (rs *ruleset) resolve(ops []Op) ([]cmd, error) {
	var cmds []cmd
	for i, o := range ops {
		c, err := rs.apply(o)
		if err != nil {
			return nil, fmt.Errorf("resolving %q: %w", o.String(), err)
		}
		for _, args := range c {
			cmds = append(cmds, cmd{table: o.Rule.Table, args: args, op: i})
		}
	}
	return cmds, nil
}

// apply performs o on the model and returns the restore commands it takes.
// An operation that creates something (a chain, a rule, a policy) creates
// its table first, as iptables does; a delete never does: in a table that
// does not exist there is nothing to delete.
func (rs *ruleset) apply(o Op) ([][]string, error) {
	if _, ok := rs.tables[o.Rule.Table]; !ok && (o.Kind == Delete || o.Kind == DeleteChain) {
		if _, known := builtinChains[o.Rule.Table]; !known {
			return nil, fmt.Errorf("%w: unknown table %q", ErrRuleset, o.Rule.Table)
		}
		return nil, nil
	}
	t, err := rs.table(o.Rule.Table)
	if err != nil {
		return nil, err
	}
	chain := o.Rule.Chain
	rules, exists := t.chains[chain]
	spec := o.Rule.specString()
	has := slices.Index(rules, spec)

	switch o.Kind {
	case NewChain:
		// Rendered as -N, never as a ":CHAIN - [0:0]" line: with --noflush,
		// iptables 1.8.9 (nf_tables) flushes an existing user chain named
		// by such a line, which would wipe DOCKER's rules on an engine
		// restart.
		if exists {
			return nil, nil
		}
		t.chains[chain] = nil
		return [][]string{{"-N", chain}}, nil
	case DeleteChain:
		if !exists {
			return nil, nil
		}
		if t.builtin(chain) {
			return nil, fmt.Errorf("%w: deleting built-in chain %q", ErrRuleset, chain)
		}
		if ref := t.referrer(chain); ref != "" {
			return nil, fmt.Errorf("%w: chain %q is still referenced from %q", ErrRuleset, chain, ref)
		}
		delete(t.chains, chain)
		return [][]string{{"-F", chain}, {"-X", chain}}, nil
	case Flush:
		if !exists {
			return nil, fmt.Errorf("%w: no chain %q in table %q", ErrRuleset, chain, t.name)
		}
		if len(rules) == 0 {
			return nil, nil
		}
		t.chains[chain] = nil
		return [][]string{{"-F", chain}}, nil
	case Policy:
		if !t.builtin(chain) {
			return nil, fmt.Errorf("%w: policy on non-built-in chain %q", ErrRuleset, chain)
		}
		if o.Policy != "ACCEPT" && o.Policy != "DROP" {
			return nil, fmt.Errorf("%w: bad policy %q", ErrRuleset, o.Policy)
		}
		t.policies[chain] = o.Policy
		return [][]string{{"-P", chain, o.Policy}}, nil
	}

	if !exists {
		return nil, fmt.Errorf("%w: no chain %q in table %q", ErrRuleset, chain, t.name)
	}
	if len(o.Rule.Spec) == 0 {
		return nil, fmt.Errorf("%w: empty rule", ErrRuleset)
	}
	if err := t.checkTarget(o.Rule.Spec); err != nil {
		return nil, err
	}
	add := append([]string{"-A", chain}, o.Rule.Spec...)
	del := append([]string{"-D", chain}, o.Rule.Spec...)
	switch o.Kind {
	case AppendUnique:
		if has >= 0 {
			return nil, nil
		}
		fallthrough
	case Append:
		t.chains[chain] = append(rules, spec)
		return [][]string{add}, nil
	case InsertUnique:
		if has >= 0 {
			return nil, nil
		}
		fallthrough
	case Insert:
		pos := max(o.Pos, 1)
		if pos > len(rules)+1 {
			return nil, fmt.Errorf("%w: insert position %d beyond the end of %q", ErrRuleset, pos, chain)
		}
		t.chains[chain] = slices.Insert(rules, pos-1, spec)
		return [][]string{append([]string{"-I", chain, strconv.Itoa(pos)}, o.Rule.Spec...)}, nil
	case EnsureFirst:
		if has == 0 {
			return nil, nil
		}
		var out [][]string
		if has > 0 {
			rules = slices.Delete(rules, has, has+1)
			out = append(out, del)
		}
		t.chains[chain] = slices.Insert(rules, 0, spec)
		return append(out, append([]string{"-I", chain, "1"}, o.Rule.Spec...)), nil
	case Delete:
		if has < 0 {
			return nil, nil // already gone: tolerated
		}
		t.chains[chain] = slices.Delete(rules, has, has+1)
		return [][]string{del}, nil
	}
	return nil, fmt.Errorf("%w: unknown operation %v", ErrRuleset, o.Kind)
}

// checkTarget refuses a jump to a chain that does not exist.
func (t *table) checkTarget(spec []string) error {
	for i, a := range spec {
		if (a == "-j" || a == "-g") && i+1 < len(spec) {
			tg := spec[i+1]
			if _, ok := t.chains[tg]; (ok && !t.builtin(tg)) || targets[tg] {
				return nil
			}
			return fmt.Errorf("%w: jump to missing chain %q", ErrRuleset, tg)
		}
	}
	return nil
}

// referrer returns a chain that jumps to chain, or "".
func (t *table) referrer(chain string) string {
	for c, rules := range t.chains {
		for _, r := range rules {
			if strings.HasSuffix(r, "-j "+chain) || strings.Contains(r, "-j "+chain+" ") {
				return c
			}
		}
	}
	return ""
}
