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

	"github.com/coreos/go-iptables/iptables"
	"github.com/google/nftables"

	"github.com/labrun/labrun/netkit/netns"
)

// This file is the plumbing between a Programmer and the iptables tools of
// its family (iptables or ip6tables): restore scripts (rendered by table,
// run with iptables-restore inside the namespace, their errors mapped back
// to the failing command), reading the rules with iptables-save, and the
// go-iptables handle. What to write and in which order is decided in
// programmer.go.

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

// restoreError is a failed iptables-restore run, with its output.
type restoreError struct {
	tool   string // iptables-restore or ip6tables-restore
	line   int    // script line it reported, 0 if none
	cmd    string // that line, when it is a command
	stderr string
	err    error
}

func (e *restoreError) Error() string {
	msg := e.tool + ": " + e.err.Error() + ": " + strings.TrimSpace(e.stderr)
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

// tool is the name of the family's command with suffix: "-restore" gives
// iptables-restore or ip6tables-restore.
func (p *Programmer) tool(suffix string) string { return p.fam.Command() + suffix }

// restore runs iptables-restore --noflush -w inside the namespace with
// script on its standard input.
func (p *Programmer) restore(script string) error {
	return p.restoreWith(script, "--noflush")
}

// restoreWith runs iptables-restore -w with extra flags inside the
// namespace; without --noflush it replaces each table the script names.
func (p *Programmer) restoreWith(script string, flags ...string) error {
	c := exec.Command(p.tool("-restore"), append([]string{"-w"}, flags...)...)
	c.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	c.Stdout = &out
	c.Stderr = &out
	if err := p.ns.Start(c, netns.StartOptions{}); err != nil {
		return err
	}
	if err := c.Wait(); err != nil {
		return &restoreError{tool: p.tool("-restore"), line: failedLine(out.String()), stderr: out.String(), err: err}
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
// namespace without any table of the family has no rules, which needs no
// iptables-save (a fresh engine's first batch).
func (p *Programmer) state() (*ruleset, error) {
	if !p.hasTables {
		empty, err := p.noTables()
		if err == nil && empty {
			return newRuleset(), nil
		}
		p.hasTables = err == nil
	}
	out, err := p.output(p.tool("-save"))
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	rs := newRuleset()
	if err := rs.parseSave(out); err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return rs, nil
}

// noTables reports whether the namespace has no table of the family at
// all, for either kind of iptables: no nf_tables table of family ip (ip6)
// (iptables-nft makes its tables there on first use) and none in x_tables
// (iptables-legacy, /proc/net/ip_tables_names, ip6_tables_names). Any
// table, even an empty one or one that is not iptables' (nft's own),
// answers false. It costs two requests where an iptables-save costs a
// process.
//
// Equivalent to: [ -z "$(nft list tables ip)" ] && [ ! -s /proc/net/ip_tables_names ]
// (ip6 and ip6_tables_names for IPv6)
func (p *Programmer) noTables() (bool, error) {
	names, family := "/proc/thread-self/net/ip_tables_names", nftables.TableFamilyIPv4
	if p.fam == IPv6 {
		names, family = "/proc/thread-self/net/ip6_tables_names", nftables.TableFamilyIPv6
	}
	var legacy []byte
	err := p.ns.Do(func() error {
		b, err := os.ReadFile(names)
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
	tables, err := c.ListTablesOfFamily(family)
	if err != nil {
		return false, err
	}
	return len(tables) == 0, nil
}

// DefaultTables are the tables Docker writes to, in the order
// iptables-save prints them.
var DefaultTables = []string{TableRaw, TableFilter, TableNAT}

// Save returns the namespace's rules as iptables-save prints them (every
// table that exists, in its own order), or with tables given as
// `iptables-save -t TABLE` prints each one after the other, without the
// "# Generated"/"# Completed" comment lines and with chain counters zeroed,
// so that it can be compared with golden files taken from real engines. A
// table exists once something was created in it: a namespace where nothing
// was written saves as "" (as a real engine run with --iptables=false),
// and the raw table appears with the first rule written to it. With
// iptables-nft, "-t raw" prints a table's built-in chains even before
// anything created it.
//
// Equivalent to: iptables-save (or, for each table, iptables-save -t TABLE;
// ip6tables-save for an IPv6 Programmer)
func (p *Programmer) Save(tables ...string) (string, error) {
	if len(tables) == 0 {
		out, err := p.output(p.tool("-save"))
		if err != nil {
			return "", fmt.Errorf("saving the rules: %w", err)
		}
		return Normalize(out), nil
	}
	var sb strings.Builder
	for _, t := range tables {
		out, err := p.output(p.tool("-save"), "-t", t)
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

// iptables returns the go-iptables handle of the family, created on first
// use. Creating it runs `iptables --version` (ip6tables), which reads no
// rules.
func (p *Programmer) iptables() (*iptables.IPTables, error) {
	p.iptOnce.Do(func() {
		proto := iptables.ProtocolIPv4
		if p.fam == IPv6 {
			proto = iptables.ProtocolIPv6
		}
		p.ipt, p.iptErr = iptables.New(iptables.IPFamily(proto))
		if p.iptErr != nil {
			p.iptErr = fmt.Errorf("finding %s: %w", p.fam.Command(), p.iptErr)
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
