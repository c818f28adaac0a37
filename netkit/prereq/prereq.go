// Package prereq tells what this machine lacks for labrun to build a lab:
// privileges, the iptables binaries, and the kernel's network namespaces,
// veth pairs, bridges and iptables backend. It exists so that labrun can say
// all of that up front, in one line per problem with the Debian fix, instead
// of failing half-way through a lab with an EPERM or "operation not supported".
//
// It only looks: it reads /proc and /sys, runs `iptables --version`, and runs
// `iptables-save` (a read-only listing) only when nothing would need loading
// for it. It never loads a kernel module, never creates a namespace, and
// changes nothing. It is not a guarantee either: a machine that passes may
// still refuse something (a seccomp profile, say); the lab then fails with the
// kernel's own error.
package prereq

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"github.com/labrun/labrun/netkit/userns"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Problem is one thing the machine lacks.
type Problem struct {
	// Missing names what is missing: "CAP_NET_ADMIN", "iptables-restore",
	// "veth", ...
	Missing string
	// Msg is one line saying what is missing and how to fix it on Debian,
	// e.g. "iptables-restore not found: install it with apt-get install iptables".
	Msg string
}

// Error returns p.Msg, so that a Problem can be returned or joined as an error.
func (p Problem) Error() string { return p.Msg }

// Check returns every problem it finds, in a fixed order (privileges,
// binaries, kernel), or nil when the machine looks fit.
func Check() []Problem { return check(host()) }

// Err returns nil when Check finds nothing, or else one error listing every
// problem, one per line.
func Err() error {
	ps := Check()
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// system is what check looks at. host() is the real machine; tests pass fakes,
// so that everything in check is exercised without privileges.
type system struct {
	euid int
	// rootless: labrun in a user namespace of its own (netkit/userns),
	// whose namespace of birth is not its to read.
	rootless bool
	readFile func(name string) ([]byte, error)
	exists   func(name string) bool
	lookPath func(file string) (string, error)
	// run runs a command and returns its standard output, or an error that
	// carries the first line of its standard error.
	run func(name string, args ...string) (string, error)
}

func host() system {
	_, rootless := userns.Rootless()
	return system{
		euid:     os.Geteuid(),
		rootless: rootless,
		readFile: os.ReadFile,
		exists: func(name string) bool {
			_, err := os.Stat(name)
			return err == nil
		},
		lookPath: exec.LookPath,
		run: func(name string, args ...string) (string, error) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(name, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				if msg := firstLine(stderr.String()); msg != "" {
					return "", fmt.Errorf("%w: %s", err, msg)
				}
				return "", err
			}
			return stdout.String(), nil
		},
	}
}

// Linux capability numbers (linux/capability.h).
const (
	capNetAdmin = 12
	capSysAdmin = 21
)

// iptablesBinaries are the commands netkit runs (through go-iptables, which
// finds them in PATH).
var iptablesBinaries = []string{"iptables", "iptables-restore", "iptables-save"}

func check(sys system) []Problem {
	var ps []Problem
	add := func(missing, format string, args ...any) {
		ps = append(ps, Problem{Missing: missing, Msg: fmt.Sprintf(format, args...)})
	}

	// Privileges: creating namespaces and entering them needs CAP_SYS_ADMIN,
	// links, addresses and rules need CAP_NET_ADMIN. Being root is not
	// enough inside an unprivileged container, so look at the capabilities.
	privileged := false
	if status, err := sys.readFile("/proc/self/status"); err != nil {
		privileged = sys.euid == 0
		if !privileged {
			add("root", "not root (and /proc/self/status unreadable): run labrun as root, e.g. sudo ./bin/labrun")
		}
	} else if eff, err := parseCapEff(string(status)); err != nil {
		add("capabilities", "cannot read the effective capabilities (%v): run labrun as root, e.g. sudo ./bin/labrun", err)
	} else {
		var lack []string
		for _, c := range []struct {
			bit  uint
			name string
		}{{capNetAdmin, "CAP_NET_ADMIN"}, {capSysAdmin, "CAP_SYS_ADMIN"}} {
			if eff&(1<<c.bit) == 0 {
				lack = append(lack, c.name)
			}
		}
		privileged = len(lack) == 0
		switch {
		case privileged:
		case sys.euid != 0:
			add(strings.Join(lack, ","), "not root and no %s: run labrun as root, e.g. sudo ./bin/labrun", strings.Join(lack, " or "))
		default:
			add(strings.Join(lack, ","), "root but without %s (CapEff %016x), as in an unprivileged container: run labrun on the host or in a --privileged container", strings.Join(lack, " or "), eff)
		}
	}

	found := map[string]bool{}
	for _, bin := range iptablesBinaries {
		if _, err := sys.lookPath(bin); err == nil {
			found[bin] = true
			continue
		}
		if dir := sbinWith(sys, bin); dir != "" {
			add(bin, "%s is in %s but %s is not in PATH: run labrun with sudo, or add %s to PATH", bin, dir, dir, dir)
		} else {
			add(bin, "%s not found: install it with apt-get install iptables", bin)
		}
	}

	if !sys.exists("/proc/self/ns/net") {
		add("netns", "kernel without network namespaces (no /proc/self/ns/net): boot a kernel with CONFIG_NET_NS=y, as Debian's linux-image-* kernels are")
	}

	k := readKernel(sys)
	for _, f := range []feature{
		{"veth", "veth", "CONFIG_VETH"},
		{"bridge", "bridge", "CONFIG_BRIDGE"},
	} {
		if msg := k.facts(f).missing(f, k.release); msg != "" {
			add(f.name, "%s: boot a kernel with %s, as Debian's linux-image-* kernels have", msg, f.config)
		}
	}

	// The iptables backend: its kernel parts, then one read-only listing.
	if !found["iptables"] {
		return ps
	}
	version, err := sys.run("iptables", "--version")
	if err != nil {
		add("iptables", "iptables does not run (%v): reinstall it with apt-get install --reinstall iptables", err)
		return ps
	}
	backend, feats := backendOf(version)
	allPresent := true
	for _, f := range feats {
		facts := k.facts(f)
		allPresent = allPresent && (facts.loaded || facts.builtin || facts.config == "y")
		if msg := facts.missing(f, k.release); msg != "" {
			add(f.name, "%s, which iptables (%s) needs: boot a kernel with %s, or switch backend with update-alternatives --config iptables", msg, backend, f.config)
		}
	}
	// Listing the tables can make the kernel load a module that is only
	// loadable; run it only when everything it needs is already there.
	if privileged && found["iptables-save"] && allPresent && !sys.rootless {
		if _, err := sys.run("iptables-save"); err != nil {
			add("iptables-save", "iptables-save fails (%v): check the kernel's %s support, or switch backend with update-alternatives --config iptables", err, backend)
		}
	}
	return ps
}

// sbinWith returns the sbin directory that holds bin although PATH does not
// name it (a user's PATH on Debian lacks /usr/sbin), or "".
func sbinWith(sys system, bin string) string {
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if sys.exists(filepath.Join(dir, bin)) {
			return dir
		}
	}
	return ""
}

// parseCapEff returns the CapEff mask from the text of /proc/PID/status.
func parseCapEff(status string) (uint64, error) {
	for _, l := range strings.Split(status, "\n") {
		v, ok := strings.CutPrefix(l, "CapEff:")
		if !ok {
			continue
		}
		var eff uint64
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &eff); err != nil {
			return 0, fmt.Errorf("parsing CapEff %q: %w", strings.TrimSpace(v), err)
		}
		return eff, nil
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

// backendOf reads the backend from `iptables --version` ("iptables v1.8.9
// (nf_tables)") and returns it with the kernel features it needs. Versions
// that name no backend predate nf_tables and are legacy.
func backendOf(version string) (string, []feature) {
	if strings.Contains(version, "(nf_tables)") {
		return "nf_tables", []feature{
			{"nf_tables", "nf_tables", "CONFIG_NF_TABLES"},
			{"nft_compat", "nft_compat", "CONFIG_NFT_COMPAT"}, // the xt matches (-m addrtype, conntrack, ...)
			{"nft_chain_nat", "nft_chain_nat", "CONFIG_NFT_NAT"},
		}
	}
	return "legacy", []feature{
		{"ip_tables", "ip_tables", "CONFIG_IP_NF_IPTABLES"},
		{"iptable_nat", "iptable_nat", "CONFIG_IP_NF_NAT"},
	}
}

// A feature is a kernel part that may be built in or a module.
type feature struct {
	name   string // what Problem.Missing says
	module string // module name, with underscores
	config string // kernel config symbol
}

// kernel holds what the machine says about its kernel. Whether a feature is
// there is told by this heuristic, strongest evidence first, and never by
// loading anything:
//
//  1. /sys/module/MODULE exists: the module is loaded, or built in with
//     parameters. Present.
//  2. /lib/modules/RELEASE/modules.builtin lists MODULE.ko: built in. Present.
//  3. /lib/modules/RELEASE/modules.dep lists MODULE.ko: loadable, and the
//     kernel loads it itself on first use. Present.
//     (This is what `modprobe -n` reads; reading it needs no kmod.)
//  4. The kernel config (/proc/config.gz, else /boot/config-RELEASE) says
//     =y: present; =m (and step 3 found no file): module not installed;
//     "is not set" or absent: missing.
//  5. No config, but a module index was read and did not list it: missing.
//  6. Nothing readable (a kernel without module support and without
//     /proc/config.gz, where built-ins without parameters leave no trace):
//     unknown, and not reported; the first lab that needs it will fail
//     with the kernel's own error.
type kernel struct {
	release   string
	sysModule func(module string) bool
	builtin   map[string]bool // nil when modules.builtin was unreadable
	loadable  map[string]bool // nil when modules.dep was unreadable
	config    map[string]string
}

func readKernel(sys system) kernel {
	k := kernel{sysModule: func(m string) bool { return sys.exists("/sys/module/" + m) }}
	if b, err := sys.readFile("/proc/sys/kernel/osrelease"); err == nil {
		k.release = strings.TrimSpace(string(b))
	}
	if k.release != "" {
		dir := "/lib/modules/" + k.release
		if b, err := sys.readFile(dir + "/modules.builtin"); err == nil {
			k.builtin = parseModuleIndex(string(b))
		}
		if b, err := sys.readFile(dir + "/modules.dep"); err == nil {
			k.loadable = parseModuleIndex(string(b))
		}
	}
	if b, err := sys.readFile("/proc/config.gz"); err == nil {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if text, err := io.ReadAll(zr); err == nil {
				k.config = parseKernelConfig(string(text))
			}
		}
	}
	if k.config == nil && k.release != "" {
		if b, err := sys.readFile("/boot/config-" + k.release); err == nil {
			k.config = parseKernelConfig(string(b))
		}
	}
	return k
}

// kernelFacts is what the machine says about one feature.
type kernelFacts struct {
	loaded, builtin, loadable bool
	indexRead                 bool   // modules.builtin or modules.dep was readable
	config                    string // "y", "m", "n", or "" when no config was readable
}

func (k kernel) facts(f feature) kernelFacts {
	kf := kernelFacts{
		loaded:    k.sysModule != nil && k.sysModule(f.module),
		builtin:   k.builtin[f.module],
		loadable:  k.loadable[f.module],
		indexRead: k.builtin != nil || k.loadable != nil,
	}
	if k.config != nil {
		kf.config = k.config[f.config]
		if kf.config == "" {
			kf.config = "n"
		}
	}
	return kf
}

// missing applies the heuristic documented on kernel: it returns "" when
// the feature is there or cannot be told, or else what is missing.
func (kf kernelFacts) missing(f feature, release string) string {
	switch {
	case kf.loaded, kf.builtin, kf.loadable, kf.config == "y":
		return ""
	case kf.config == "m":
		return fmt.Sprintf("%s is a module (%s=m) but kernel %s has no %s.ko installed under /lib/modules", f.name, f.config, release, f.module)
	case kf.config == "n":
		return fmt.Sprintf("kernel %s is built without %s (%s is not set)", release, f.name, f.config)
	case kf.indexRead:
		return fmt.Sprintf("kernel %s has no %s: neither built in nor a module under /lib/modules/%s", release, f.name, release)
	default:
		return ""
	}
}

// parseModuleIndex returns the module names in modules.builtin or
// modules.dep ("kernel/drivers/net/veth.ko.xz: ..."), with dashes turned
// into underscores as modprobe does.
func parseModuleIndex(text string) map[string]bool {
	mods := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		path, _, _ := strings.Cut(l, ":")
		base := filepath.Base(strings.TrimSpace(path))
		name, ext, ok := strings.Cut(base, ".ko")
		if !ok || (ext != "" && ext[0] != '.') { // veth.ko, veth.ko.xz
			continue
		}
		mods[strings.ReplaceAll(name, "-", "_")] = true
	}
	return mods
}

// parseKernelConfig returns the symbols of a kernel config: "CONFIG_X=y"
// gives "y", "# CONFIG_X is not set" gives "n".
func parseKernelConfig(text string) map[string]string {
	cfg := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if sym, ok := strings.CutPrefix(l, "# "); ok {
			if sym, ok := strings.CutSuffix(sym, " is not set"); ok {
				cfg[sym] = "n"
			}
			continue
		}
		if sym, val, ok := strings.Cut(l, "="); ok && strings.HasPrefix(sym, "CONFIG_") {
			cfg[sym] = strings.Trim(val, `"`)
		}
	}
	return cfg
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
