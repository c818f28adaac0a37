package fidelity

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
)

// engine is one side of a comparison: something that runs docker command
// lines and dumps its host's iptables rules.
type engine interface {
	// docker runs a docker command and returns its output and exit status.
	docker(args ...string) result
	// dockerEnv is docker with more environment variables
	// (DOCKER_API_VERSION=1.52).
	dockerEnv(env []string, args ...string) result
	// serverAPI is the engine's own API version ("1.51").
	serverAPI() string
	// rules returns the engine host's firewall: iptables-save, limited to
	// the case's rules on a shared host (see filterRules), or nft list
	// ruleset.
	rules(c scope) string
	// portRange is the host's ip_local_port_range.
	portRange() (lo, hi int)
	// host runs a shell line on the engine's host and returns its output
	// (a case's After).
	host(line string) string
}

// result is one docker command's outcome.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return r.stdout + r.stderr + "exit " + strconv.Itoa(r.code) + "\n"
}

// Real is the real Docker Engine on this machine, driven through the
// docker CLI. It is an oracle: the tests only create, inspect and remove
// containers, networks and one image of their own prefix, and never send
// traffic.
type Real struct{}

func (r Real) docker(args ...string) result { return r.dockerEnv(nil, args...) }

func (Real) dockerEnv(env []string, args ...string) result {
	cmd := exec.Command("docker", args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	return runDocker(cmd)
}

func (r Real) serverAPI() string { return dockerServerAPI(r) }

// dockerServerAPI asks a real engine for its API version.
func dockerServerAPI(e engine) string {
	return strings.TrimSpace(e.docker("version", "--format", "{{.Server.APIVersion}}").stdout)
}

// runDocker runs a docker CLI command and returns its outcome.
func runDocker(cmd *exec.Cmd) result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return result{stderr: err.Error() + "\n", code: -1}
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// rules reads the root namespace's rules, read only, limited to the case's.
func (Real) rules(c scope) string {
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		return "iptables-save: " + err.Error()
	}
	return filterRules(string(out), c.bridges, c.subnets, c.addrs)
}

func (Real) portRange() (int, int) {
	return readRange(os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"))
}

// host is never asked of the machine's engine (Target.Runs).
func (Real) host(string) string { return "" }

// hostOutput is a host command's output, and its failure.
func hostOutput(out []byte, err error) string {
	if err != nil {
		return string(out) + err.Error() + "\n"
	}
	return string(out)
}

func readRange(b []byte, err error) (int, int) {
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil {
				return lo, hi
			}
		}
	}
	return 49153, 65535
}

// Versions are the real engine's and CLI's versions.
type Versions struct {
	Server, Client string
	// MTU is the default bridge's MTU (daemon.json's "mtu").
	MTU string
}

// Probe asks the real engine for its versions; an error means no engine
// answers.
func Probe() (Versions, error) {
	var v Versions
	r := Real{}.docker("version", "--format", "{{.Server.Version}}\t{{.Client.Version}}")
	if r.code != 0 {
		return v, fmt.Errorf("docker version: %s", strings.TrimSpace(r.stderr))
	}
	f := strings.Fields(r.stdout)
	if len(f) != 2 || f[0] == "" {
		return v, fmt.Errorf("docker version: unexpected output %q", r.stdout)
	}
	v.Server, v.Client = f[0], f[1]
	r = Real{}.docker("network", "inspect", "-f", `{{index .Options "com.docker.network.driver.mtu"}}`, "bridge")
	v.MTU = strings.TrimSpace(r.stdout)
	return v, nil
}

// MakeImage imports a one-binary image from busybox (Debian's
// busybox-static) into the machine's engine, EXPOSE 80/tcp like labrun's
// httpd image, and returns its name. It returns an error when busybox is
// missing.
func MakeImage(tag string) (string, error) {
	name := "labrun-fidelity:" + tag
	docker := func(args ...string) *exec.Cmd { return exec.Command("docker", args...) }
	return name, oracle.Import(docker, name, "EXPOSE 80/tcp", `CMD ["sh"]`)
}

// MakeBusybox imports into the machine's engine the busybox image of the
// cases ({BUSYBOX}: CMD sh, nothing EXPOSEd) and returns its name.
func MakeBusybox(tag string) (string, error) {
	name := "labrun-fidelity:busybox-" + tag
	docker := func(args ...string) *exec.Cmd { return exec.Command("docker", args...) }
	return name, oracle.Import(docker, name, `CMD ["sh"]`)
}

// RemoveImage removes an image MakeImage or MakeBusybox made.
func RemoveImage(name string) { Real{}.docker("rmi", "-f", name) }

// Clean removes every container and network of the real engine whose name
// starts with prefix (the case's, or a crashed run's).
func Clean(prefix string) {
	r := Real{}.docker("ps", "-aq", "--filter", "name=^/"+prefix)
	if ids := strings.Fields(r.stdout); len(ids) > 0 {
		Real{}.docker(append([]string{"rm", "-f"}, ids...)...)
	}
	r = Real{}.docker("network", "ls", "-q", "--filter", "name=^"+prefix)
	for _, id := range strings.Fields(r.stdout) {
		Real{}.docker("network", "rm", id)
	}
}

// rulesTitle is the title of the observation of the engine's rules.
const rulesTitle = "the engine's firewall rules"

// observation is one compared output.
type observation struct {
	title, text string
	// unordered: compared as sorted lines, after normalising.
	unordered bool
}

var (
	nameRE    = regexp.MustCompile(`@([a-z0-9]+)`)
	runNameRE = regexp.MustCompile(`--name @([a-z0-9]+)`)
	netNameRE = regexp.MustCompile(`^network create .*@([a-z0-9]+)$`)
)

// rangeRE is a fresh range's port, {R} or {R+N}.
var rangeRE = regexp.MustCompile(`\{R(\+\d+)?\}`)

// expand turns a case's command line into docker's arguments; base is the
// first port of the run's fresh host port range ({R}).
func expand(line, prefix string, im caseImages, serve []string, base int) []string {
	line = rangeRE.ReplaceAllStringFunc(line, func(m string) string {
		n := 0
		if m != "{R}" {
			n, _ = strconv.Atoi(m[3 : len(m)-1])
		}
		return strconv.Itoa(base + n)
	})
	var args []string
	for _, f := range strings.Fields(line) {
		switch f {
		case "{IMAGE}":
			args = append(args, im.image)
		case "{BUSYBOX}":
			args = append(args, im.busybox)
		case "{SERVE}":
			args = append(args, serve...)
		case "{COMPOSE}":
			args = append(args, composeFile(prefix))
		default:
			args = append(args, nameRE.ReplaceAllString(f, prefix+"$1"))
		}
	}
	return args
}

// run runs c on e and returns what is compared, and what the normaliser
// needs to know of e.
func run(e engine, c Case, prefix string, im caseImages, serve []string, base int) ([]observation, *side) {
	var obs []observation
	ctrs, nets := append([]string{}, c.Containers...), append([]string{}, c.Networks...)
	if c.Compose != "" {
		if err := writeCompose(c, prefix, im); err != nil {
			obs = append(obs, observation{title: "the compose file", text: err.Error()})
		}
	}
	for _, line := range c.Steps {
		r := e.docker(expand(line, prefix, im, serve, base)...)
		title := "$ docker " + line
		if c.Compose != "" {
			r, title = composeResult(r, title, im)
		}
		obs = append(obs, observation{title: title, text: r.String()})
		if m := runNameRE.FindStringSubmatch(line); m != nil && !contains(ctrs, m[1]) {
			ctrs = append(ctrs, m[1])
		}
		if m := netNameRE.FindStringSubmatch(line); m != nil {
			nets = append(nets, m[1])
		}
	}
	for _, line := range c.After {
		obs = append(obs, observation{title: "$ " + line, text: e.host(line)})
	}
	s := &side{prefix: prefix, ids: map[string]string{}, subnets: map[string]netip.Prefix{}}
	s.portLo, s.portHi = e.portRange()
	addrs := map[netip.Addr]bool{}
	for _, n := range ctrs {
		r := e.docker("inspect", "-f", "{{.Id}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", prefix+n)
		f := strings.Fields(r.stdout)
		if r.code != 0 || len(f) == 0 {
			continue
		}
		s.ids[f[0]] = "<ctr:" + n + ">"
		for _, a := range f[1:] {
			if ip, err := netip.ParseAddr(a); err == nil {
				addrs[ip] = true
			}
		}
	}
	bridges := []string{"docker0"}
	for _, n := range append([]string{"bridge", "host", "none"}, nets...) {
		full := n
		if contains(nets, n) {
			full = prefix + n
		}
		r := e.docker("network", "inspect", "-f", "{{.Id}} {{range .IPAM.Config}}{{.Subnet}} {{end}}", full)
		f := strings.Fields(r.stdout)
		if r.code != 0 || len(f) == 0 {
			continue
		}
		s.ids[f[0]] = "<net:" + n + ">"
		if len(f) > 1 {
			if p, err := netip.ParsePrefix(f[1]); err == nil {
				s.subnets[n] = p
			}
		}
		if contains(nets, n) {
			bridges = append(bridges, "br-"+f[0][:12])
		}
	}
	api := e.serverAPI()
	for _, n := range ctrs {
		r := e.docker("port", prefix+n)
		obs = append(obs, observation{title: "docker port " + n, text: r.String()})
		r = e.docker("inspect", prefix+n)
		text := block(r.stdout, "NetworkSettings", 8)
		if r.code != 0 {
			text = r.String()
		}
		obs = append(obs, observation{title: "docker inspect " + n + " (NetworkSettings)", text: text})
		// The CLI negotiates an API version no newer than its own; the
		// engine's own version shows the engine's own shapes.
		r = e.dockerEnv([]string{"DOCKER_API_VERSION=" + api}, "inspect", prefix+n)
		text = block(r.stdout, "NetworkSettings", 8)
		if r.code != 0 {
			text = r.String()
		}
		obs = append(obs, observation{title: "docker inspect " + n + " at the engine's API version (NetworkSettings)", text: text})
	}
	r := e.docker("ps", "-a", "--format", "{{.Names}}\t{{.Ports}}")
	var ps []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, prefix) {
			ps = append(ps, l)
		}
	}
	sort.Strings(ps)
	obs = append(obs, observation{title: "docker ps (PORTS)", text: strings.Join(ps, "\n") + "\n"})
	for _, n := range append([]string{"bridge"}, nets...) {
		full := n
		if n != "bridge" {
			full = prefix + n
		}
		r := e.docker("network", "inspect", full)
		obs = append(obs, observation{title: "docker network inspect " + n, text: r.stdout + r.stderr})
	}
	sc := scope{bridges: bridges, addrs: addrs}
	for _, p := range s.subnets {
		sc.subnets = append(sc.subnets, p)
	}
	// Compose creates a project's networks in parallel: their rules come
	// in either order.
	obs = append(obs, observation{title: rulesTitle, text: e.rules(sc), unordered: c.Compose != "" && len(c.Networks) > 1})
	return obs, s
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Outcome is one case's comparison.
type Outcome struct {
	Case Case
	// Diffs holds, per differing observation, its title and diff.
	Diffs []string
	// Err is a failure to run the case on labrun.
	Err error
	// Docker holds the real engine's normalised outputs, titled.
	Docker []string
	// Major is the real engine's major version ("20").
	Major string
}

// Known returns why the case is expected to differ from this engine, or "".
func (o Outcome) Known() string { return o.Case.Known[o.Major] }

func major(version string) string {
	m, _, _ := strings.Cut(version, ".")
	return m
}

// Same reports whether labrun's outputs were identical to Docker's.
func (o Outcome) Same() bool { return o.Err == nil && len(o.Diffs) == 0 }

// Compare runs c against the target's engine and a fresh labrun lab set
// to the engine's release and host, and compares their outputs after
// normalising.
func Compare(c Case, t Target) Outcome {
	v := t.Versions
	prefix := "fid" + randHex(3) + "-"
	// A host port range no earlier run used, 20000–39980 by twenties, and
	// that no socket of the real host holds: Docker moves on to the next
	// port of a range when its proxy cannot bind, which would make the two
	// sides differ for a reason outside both.
	var b [2]byte
	rand.Read(b[:])
	base := 20000 + 20*((int(b[0])<<8|int(b[1]))%1000)
	for busy := hostPortsInUse(); rangeBusy(busy, base, 12); {
		base += 20
		if base > 39980 {
			base = 20000
		}
	}
	real, images, stop, err := t.engine(c)
	if err != nil {
		return Outcome{Case: c, Err: fmt.Errorf("the real engine: %w", err)}
	}
	if t.Machine() {
		Clean(prefix)
		defer Clean(prefix)
	}
	want, ws := run(real, c, prefix, images, t.Serve, base)
	stop()
	if c.Compose != "" {
		defer os.RemoveAll(filepath.Dir(composeFile(prefix)))
	}
	l, err := NewLabrun("fidelity-"+c.Name, t.labrunOptions(c))
	if err != nil {
		return Outcome{Case: c, Err: err}
	}
	defer l.Close()
	got, gs := run(l, c, prefix, caseImages{"httpd", "busybox"}, []string{"sleep", "3600"}, base)
	if !t.Machine() {
		// Both engines are fresh: the ephemeral ports they hand out are
		// compared as numbers, so the order of allocation is too.
		ws.portLo, ws.portHi, gs.portLo, gs.portHi = 1, 0, 1, 0
	}
	wm, gm := newMapping(ws, gs), newMapping(gs, gs)
	out := Outcome{Case: c, Major: major(v.Server)}
	for i := 0; i < max(len(want), len(got)); i++ {
		w, g := wm.observation(want, i), gm.observation(got, i)
		out.Docker = append(out.Docker, w.title+":\n"+w.text)
		if d := diff(w.text, g.text); d != "" {
			title := w.title
			if title == "" {
				title = g.title
			}
			out.Diffs = append(out.Diffs, title+":\n"+d)
		}
	}
	return out
}

// observation returns the side's i-th observation normalised, or the
// zero one when the side has fewer.
func (m *mapping) observation(obs []observation, i int) observation {
	if i >= len(obs) {
		return observation{}
	}
	o := obs[i]
	o.text = m.normalize(o.text)
	if strings.HasPrefix(o.title, "docker network inspect") {
		o.text = sortContainers(o.text)
	}
	if o.title == rulesTitle {
		o.text = sortElements(o.text)
	}
	if o.unordered {
		o.text = sortedLines(o.text)
		o.title += " (lines sorted)"
	}
	return o
}

// Report prints one line per case ("same", or "different" and the diffs)
// and last the summary line, and returns how many cases were identical.
func Report(w io.Writer, outs []Outcome, t Target) int {
	same := 0
	for _, o := range outs {
		switch {
		case o.Err != nil:
			fmt.Fprintf(w, "%-28s different: %v\n", o.Case.Name, o.Err)
		case o.Same():
			same++
			fmt.Fprintf(w, "%-28s same\n", o.Case.Name)
		default:
			known := ""
			if k := o.Known(); k != "" {
				known = " (known: " + k + ")"
			}
			fmt.Fprintf(w, "%-28s different%s\n", o.Case.Name, known)
			for _, d := range o.Diffs {
				fmt.Fprintf(w, "%s\n", indent(d, "    "))
			}
		}
	}
	fmt.Fprintf(w, "fidelity: %d of %d cases identical to %s\n", same, len(outs), t)
	return same
}

func indent(s, pad string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// hostPortsInUse returns the local TCP and UDP ports of every socket in the
// test's own (the real engine's) network namespace, read from /proc/net.
func hostPortsInUse() map[int]bool {
	used := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			i := strings.LastIndexByte(fields[1], ':')
			if i < 0 {
				continue
			}
			if p, err := strconv.ParseInt(fields[1][i+1:], 16, 32); err == nil {
				used[int(p)] = true
			}
		}
	}
	return used
}

// rangeBusy reports whether any of the n ports from base is in used.
func rangeBusy(used map[int]bool, base, n int) bool {
	for p := base; p < base+n; p++ {
		if used[p] {
			return true
		}
	}
	return false
}

// composeFile is where a case's compose file is, for both sides: the same
// path, so that Compose's labels naming it compare.
func composeFile(prefix string) string {
	return filepath.Join(os.TempDir(), prefix+"compose", "compose.yaml")
}

// writeCompose writes the case's compose file for one side, with its
// images.
func writeCompose(c Case, prefix string, im caseImages) error {
	f := composeFile(prefix)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	text := strings.NewReplacer("{IMAGE}", im.image, "{BUSYBOX}", im.busybox).Replace(c.Compose)
	return os.WriteFile(f, []byte(text), 0o644)
}

var (
	// durationRE is a time docker compose ps shows relative to now.
	durationRE = regexp.MustCompile(`(Less than a second|About a minute|About an hour|\d+ (seconds|minutes|hours)|1 (second|minute|hour))`)
	spacesRE   = regexp.MustCompile(` {2,}`)
)

// composeResult readies a docker compose step's outcome for comparing:
// the images named as labrun's; the progress lines of up and down sorted
// (Compose works on the project's networks and containers in parallel,
// so their order differs from run to run); ps's times as <dur> and its
// columns' padding, which follows their widths, as two spaces.
func composeResult(r result, title string, im caseImages) (result, string) {
	names := strings.NewReplacer(im.image, "httpd", im.busybox, "busybox")
	r.stdout, r.stderr = names.Replace(r.stdout), names.Replace(r.stderr)
	switch {
	case composeVerb(title, "up") || composeVerb(title, "down"):
		if r.stderr != "" {
			r.stderr = sortedLines(r.stderr)
		}
		title += " (stderr sorted: Compose works in parallel)"
	case composeVerb(title, "ps") || strings.HasPrefix(title, "$ docker network ls"):
		// The names lose the prefix, which changes the columns' widths.
		r.stdout = spacesRE.ReplaceAllString(durationRE.ReplaceAllString(r.stdout, "<dur>"), "  ")
		title += " (times as <dur>, padding as two spaces)"
	}
	return r, title
}

// composeVerb reports whether a step's title runs docker compose's
// subcommand verb.
func composeVerb(title, verb string) bool {
	f := strings.Fields(title)
	return len(f) > 2 && f[1] == "docker" && f[2] == "compose" && contains(f[3:], verb)
}
