package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/netns"
)

// A Snapshot describes some state one fact a line, so that two of them,
// taken before and after an operation, can be compared with Diff. Tests
// build a lab's snapshot from its nodes' NSState, HeldNamespaces, the
// processes under test (Descendants) and lines of their own.
type Snapshot []string

// Addf adds one line.
func (s *Snapshot) Addf(format string, args ...any) {
	*s = append(*s, fmt.Sprintf(format, args...))
}

// Sorted returns the lines sorted, so that the order in which they were
// gathered (map iteration, dump order) is no difference.
func (s Snapshot) Sorted() Snapshot {
	return slices.Sorted(slices.Values(s))
}

// String returns the lines, each ended by a newline.
func (s Snapshot) String() string {
	if len(s) == 0 {
		return ""
	}
	return strings.Join(s, "\n") + "\n"
}

// Diff returns a unified diff from before to after (go-internal's diff:
// "-" for a line only before, "+" for one only after, with context), or ""
// when they are the same.
func Diff(before, after Snapshot) string {
	return TextDiff("before", before.String(), "after", after.String())
}

// TextDiff is Diff for two texts, named in the diff's header (say "want"
// and "got" for a golden file): "" when they are the same, else a unified
// diff from old to new.
func TextDiff(oldName, old, newName, new string) string {
	return string(diff.Diff(oldName, []byte(old), newName, []byte(new)))
}

// Changes returns only the changed lines of Diff(before, after): "- line"
// for a line only before, "+ line" for one only after, in diff order.
func Changes(before, after Snapshot) []string {
	var out []string
	d := strings.Split(Diff(before, after), "\n")
	for i, l := range d {
		if i < 3 || l == "" { // "diff before after", "--- before", "+++ after"
			continue
		}
		if l[0] == '-' || l[0] == '+' {
			out = append(out, l[:1]+" "+l[1:])
		}
	}
	return out
}

// AssertUnchanged reports an error, with the diff, when after differs from
// before; what names the state in the message. It returns whether they were
// the same.
func AssertUnchanged(t testing.TB, before, after Snapshot, what string) bool {
	t.Helper()
	if d := Diff(before, after); d != "" {
		t.Errorf("%s changed:\n%s", what, d)
		return false
	}
	return true
}

// StateOptions says what NSState describes besides links, addresses,
// routes and sockets. The zero value adds nothing.
type StateOptions struct {
	// IPTables adds the namespace's iptables rules (iptables-save).
	IPTables bool
	// Sysctls are keys under /proc/sys/ (net/ipv4/ip_forward) whose values
	// are added; one that cannot be read is "unreadable".
	Sysctls []string
}

var (
	counters = regexp.MustCompile(`\[\d+:\d+\]`)
	builtin  = regexp.MustCompile(`^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT \[\]$`)
)

// NSState describes the network namespace ns one fact a line, sorted:
//
//	link NAME TYPE master=BRIDGE up=BOOL
//	addr LINK PREFIX                  (not the kernel's IPv6 link-local ones)
//	route DST via GW dev LINK         (main table, not to IPv6 link-local)
//	socket tcp|tcp6|udp|udp6 LOCAL    (listening TCP, bound UDP)
//	iptables TABLE RULE               (with opts.IPTables)
//	sysctl KEY VALUE                  (opts.Sysctls)
//
// IPv6 link-local addresses and their routes are the kernel's own, made
// when a link first has a carrier, at a time of its choosing; an iptables
// table that the kernel made when iptables first looked at it, with only
// its built-in chains accepting everything, holds no rule: neither is state
// anything made. Counters are left out of the rules.
//
// It returns an error rather than failing a test, so that a scenario
// command (which has no *testing.T) can take a lab's state too.
//
// Equivalent to: ip link; ip addr; ip route; ss -ltu; iptables-save; sysctl KEY
func NSState(ns *netns.NS, opts StateOptions) (Snapshot, error) {
	var s Snapshot
	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		return nil, fmt.Errorf("opening a netlink handle: %w", err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	for _, l := range links {
		a := l.Attrs()
		s.Addf("link %s %s master=%s up=%v", a.Name, l.Type(), names[a.MasterIndex], a.Flags&1 != 0)
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	for _, a := range addrs {
		if !a.IP.IsLinkLocalUnicast() {
			s.Addf("addr %s %s", names[a.LinkIndex], a.IPNet)
		}
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil || !r.Dst.IP.IsLinkLocalUnicast() {
			s.Addf("route %v via %v dev %s", r.Dst, r.Gw, names[r.LinkIndex])
		}
	}
	err = ns.Do(func() error {
		for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
			b, err := os.ReadFile("/proc/thread-self/net/" + f)
			if err != nil {
				return err
			}
			for _, l := range strings.Split(string(b), "\n")[1:] {
				fs := strings.Fields(l)
				if len(fs) > 3 && (fs[3] == "0A" || strings.HasPrefix(f, "udp")) {
					s.Addf("socket %s %s", f, fs[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing sockets: %w", err)
	}
	if opts.IPTables {
		rules, err := iptablesRules(ns)
		if err != nil {
			return nil, err
		}
		for _, l := range rules {
			s.Addf("iptables %s", l)
		}
	}
	for _, key := range opts.Sysctls {
		v, err := ns.ReadSysctl(key)
		if err != nil {
			v = "unreadable"
		}
		s.Addf("sysctl %s %s", key, v)
	}
	return s.Sorted(), nil
}

// iptablesRules returns iptables-save's rules in ns as "TABLE RULE" lines,
// in its order, without counters, comments and tables the kernel made on
// first look (see NSState).
func iptablesRules(ns *netns.NS) ([]string, error) {
	var out, errOut strings.Builder
	cmd := exec.Command("iptables-save")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := ns.Start(cmd, netns.StartOptions{}); err != nil {
		return nil, fmt.Errorf("running iptables-save: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("running iptables-save: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	return normIPTables(out.String()), nil
}

// normIPTables is iptablesRules's reading of iptables-save's output.
func normIPTables(save string) []string {
	var rules []string
	table := ""
	for _, l := range strings.Split(save, "\n") {
		l = counters.ReplaceAllString(l, "[]")
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case l == "" || l == "COMMIT" || strings.HasPrefix(l, "#") || builtin.MatchString(l):
		default:
			rules = append(rules, table+" "+l)
		}
	}
	return rules
}

// HeldNamespaces lists the network namespaces this process holds open as
// descriptors, "netns net:[INODE]" each, sorted (see NamespaceFDs).
func HeldNamespaces() Snapshot {
	var s Snapshot
	for ino := range NamespaceFDs() {
		s.Addf("netns %s", ino)
	}
	return s.Sorted()
}

// NamespaceFDs maps each network namespace that this process holds open as
// a descriptor ("net:[INODE]") to a /proc/self/fd path of it, from which
// netns.Open can open it. The calling thread's own namespace is left out: a
// thread switching namespaces holds a descriptor of it for a moment.
func NamespaceFDs() map[string]string {
	held := map[string]string{}
	self, _ := os.Readlink("/proc/thread-self/ns/net")
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, ent := range ents {
		p := "/proc/self/fd/" + ent.Name()
		if l, err := os.Readlink(p); err == nil && strings.HasPrefix(l, "net:") && l != self {
			held[l] = p
		}
	}
	return held
}
