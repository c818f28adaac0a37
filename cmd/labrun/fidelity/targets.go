package fidelity

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
)

// Target is a real engine the cases are compared with: the machine's
// (shared with whatever else runs there, so only the case's rules are
// compared, and its daemon flags are fixed), or an oracle engine
// (package oracle) started fresh for each case, with the case's daemon
// flags, and compared as a whole.
type Target struct {
	// Versions are the engine's and the docker CLI's.
	Versions Versions
	// Backend is the engine's firewall back end.
	Backend oracle.Backend
	// Oracle: the engine is an oracle one, of Versions.Server, from
	// OracleDir ("" is oracle.DefaultDir()).
	Oracle    bool
	OracleDir string
	// Image is the machine engine's case image (MakeImage), and Serve the
	// command that keeps a container of it running; Busybox its busybox
	// image (MakeBusybox).
	Image   string
	Serve   []string
	Busybox string
}

// Machine reports whether the target is the machine's engine.
func (t Target) Machine() bool { return !t.Oracle }

// String names the target as the summary line does: "Docker 28.5.2
// (iptables)".
func (t Target) String() string {
	b := t.Backend
	if b == "" {
		b = oracle.IPTables
	}
	s := fmt.Sprintf("Docker %s (%s", t.Versions.Server, b)
	if t.Machine() {
		s += ", the machine's engine"
	}
	return s + ", CLI " + t.Versions.Client + ")"
}

// Runs reports whether the target can run c: the machine's engine cannot
// take a case's daemon flags or host setup, and its host is not the
// case's to read.
func (t Target) Runs(c Case) bool {
	if c.Compose != "" {
		_, ok := oracle.ComposePlugin(t.OracleDir)
		return t.Oracle && ok
	}
	return t.Oracle || (len(c.Daemon) == 0 && len(c.Host) == 0 && len(c.After) == 0)
}

// caseImage is the image name on an oracle engine, and busyboxImage its
// busybox: CMD sh and nothing EXPOSEd, as labrun's busybox.
const (
	caseImage    = "labrun-fidelity:case"
	busyboxImage = "labrun-fidelity:busybox"
)

// caseImages are the images that {IMAGE} and {BUSYBOX} name on one side.
type caseImages struct{ image, busybox string }

// engine returns the real side of c, the images its cases run, and what
// stops it: the machine's engine as it is, or a fresh oracle engine.
func (t Target) engine(c Case) (engine, caseImages, func(), error) {
	if t.Machine() {
		return Real{}, caseImages{t.Image, t.Busybox}, func() {}, nil
	}
	e, err := oracle.Start(context.Background(), oracle.Options{Version: t.Versions.Server, Dir: t.OracleDir,
		Backend: t.Backend, Flags: c.Daemon, IPForward: t.ipForward(), Host: c.Host})
	if err != nil {
		return nil, caseImages{}, nil, err
	}
	err = oracle.Import(e.Docker, caseImage, "EXPOSE 80/tcp", `CMD ["sh"]`)
	if err == nil && c.usesBusybox() {
		err = oracle.Import(e.Docker, busyboxImage, `CMD ["sh"]`)
	}
	if err != nil {
		e.Close()
		return nil, caseImages{}, nil, err
	}
	oe := oracleEngine{e: e}
	stop := func() { e.Close() }
	if c.Compose != "" {
		// The docker CLI finds Docker Compose as a plugin of a
		// configuration of the case's own.
		cfg, err := oracle.ComposeConfig(t.OracleDir)
		if err != nil {
			e.Close()
			return nil, caseImages{}, nil, err
		}
		oe.env = []string{"DOCKER_CONFIG=" + cfg}
		stop = func() { e.Close(); os.RemoveAll(cfg) }
	}
	return oe, caseImages{caseImage, busyboxImage}, stop, nil
}

// ipForward: Docker 29 with nftables refuses to start on a host that does
// not forward (it does not set the sysctl itself); a fresh iptables host
// does not forward before the engine starts.
func (t Target) ipForward() bool { return t.Backend == oracle.NFTables }

func (t Target) labrunOptions(c Case) LabrunOptions {
	return LabrunOptions{Versions: t.Versions, Daemon: c.Daemon, Backend: t.Backend,
		IPForward: t.ipForward(), Shared: t.Machine(), Host: c.Host}
}

// oracleEngine is an oracle engine as one side of a case, with more
// variables for its docker CLI (DOCKER_CONFIG).
type oracleEngine struct {
	e   *oracle.Engine
	env []string
}

func (o oracleEngine) docker(args ...string) result { return o.dockerEnv(nil, args...) }

func (o oracleEngine) dockerEnv(env []string, args ...string) result {
	cmd := o.e.Docker(args...)
	cmd.Env = append(append(cmd.Env, o.env...), env...)
	return runDocker(cmd)
}

func (o oracleEngine) serverAPI() string { return dockerServerAPI(o) }

func (o oracleEngine) rules(scope) string { return hostRules(o.e.Backend, o.e.Output) }

func (o oracleEngine) host(line string) string { return hostOutput(o.e.Output("sh", "-c", line)) }

func (o oracleEngine) portRange() (int, int) {
	return readRange(o.e.Output("cat", "/proc/sys/net/ipv4/ip_local_port_range"))
}

// scope is what of a shared host's rules belongs to a case: its bridges,
// its networks' subnets and its containers' addresses.
type scope struct {
	bridges []string
	subnets []netip.Prefix
	addrs   map[netip.Addr]bool
}

var (
	countersRE    = regexp.MustCompile(`\[\d+:\d+\]$`)
	nftCountersRE = regexp.MustCompile(`counter packets \d+ bytes \d+`)
)

// hostRules is the whole firewall of a host of its own: iptables-save
// without comments and with chain counters zeroed, or nft list ruleset.
//
// Equivalent to: iptables-save | grep -v '^#' (or nft list ruleset)
func hostRules(b oracle.Backend, output func(...string) ([]byte, error)) string {
	if b == oracle.NFTables {
		out, err := output("nft", "list", "ruleset")
		if err != nil {
			return "nft list ruleset: " + err.Error() + "\n"
		}
		// Counters are zeroed, as iptables-save's are: they count what
		// the engine's own traffic did.
		return nftCountersRE.ReplaceAllString(string(out), "counter packets 0 bytes 0")
	}
	out, err := output("iptables-save")
	if err != nil {
		return "iptables-save: " + err.Error() + "\n"
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, countersRE.ReplaceAllString(l, "[0:0]"))
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
