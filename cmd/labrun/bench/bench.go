package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/world"
)

const usage = `usage: labrun bench [-quick] [-n 10,100,1000] [-methods labrun,shell,cni,docker,floor] [-lines 10,50] [flags]

bench builds a lab of N busybox containers on docker0, each publishing
-p 20000+i:80, and removes it again, with labrun's engine, with a shell
script of ip and iptables commands, with the CNI reference plugins
(bridge + host-local + portmap), and with a real Docker Engine (make
oracle builds it; N up to -docker-max only, skipped without an engine),
each in scratch network namespaces of its own, and prints the cost per
container of each, and of the floor: the same containers' namespaces,
veths, addresses and routes made with netlink alone (no NAT, no process).
With labrun, it also builds worlds of routers in a line (-lines; labrun
world line -n N), for the cost of a world's node.
Needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN), ip, iptables and
iptables-restore; the cni method also needs the go command the first time,
to install the plugins into its cache directory.

Flags:
`

// Main runs the benchmark command line (without "bench") and returns the
// exit status: 0 when every method ran, 1 when one failed or the machine
// cannot run it, 2 for bad usage. The binary must call initproc.MaybeRun
// first thing in main: labrun's containers are re-executions of it.
func Main(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "labrun bench: %v\n", err)
		return 2
	}
	cfg.stdout, cfg.stderr = stdout, stderr
	if err := run(cfg); err != nil {
		fmt.Fprintf(stderr, "labrun bench: %v\n", err)
		return 1
	}
	return 0
}

// config is the parsed command line.
type config struct {
	sizes         []int
	methods       []string
	upParallel    int
	downParallel  int
	cacheDir      string
	cniVersion    string
	labStarts     int
	labSettle     time.Duration
	lines         []int // routers in the line worlds timed (world.Line)
	lineRuns      int
	dockerVersion string
	dockerMax     int
	verbose       bool

	stdout, stderr io.Writer
}

var allMethods = []string{methodLabrun, methodShell, methodCNI, methodDocker, methodFloor}

const (
	methodLabrun = "labrun"
	methodShell  = "shell"
	methodCNI    = "cni"
	methodDocker = "docker"
	methodFloor  = "floor"
)

// cniVersion is the containernetworking/plugins release the cni method
// installs by default (the newest on the module proxy when this was
// written).
const cniVersion = "v1.10.0"

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("labrun bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	sizes := fs.String("n", "10,100,1000", "lab sizes (containers), comma-separated")
	methods := fs.String("methods", strings.Join(allMethods, ","), "methods to run, comma-separated: "+strings.Join(allMethods, ", "))
	quick := fs.Bool("quick", false, "a short run: -n 10,100")
	cfg := &config{}
	fs.IntVar(&cfg.upParallel, "up-parallel", 16, "labrun, docker and floor: containers started at once, as xargs -P or compose would issue docker run (1: one after the other)")
	fs.IntVar(&cfg.downParallel, "down-parallel", 50, "labrun and floor: containers removed at once (50: what docker rm -f A B C... does; docker: one such call)")
	fs.StringVar(&cfg.cacheDir, "cache", "", "directory for the installed CNI plugins (default: the user cache directory's labrun/bench)")
	fs.StringVar(&cfg.cniVersion, "cni-version", cniVersion, "github.com/containernetworking/plugins version to install")
	fs.IntVar(&cfg.labStarts, "lab-starts", 10, "fresh labs (NewLab + StartEngine) to time for the lab start figure, back to back and settled")
	fs.DurationVar(&cfg.labSettle, "lab-settle", 300*time.Millisecond, "pause before each settled fresh lab, for the kernel to finish removing the last one")
	lines := fs.String("lines", "10,50", "labrun: worlds of N routers in a line to build and remove, for the cost of a node (comma-separated; \"\" for none)")
	fs.IntVar(&cfg.lineRuns, "line-runs", 5, "labrun: how many times to build each line world (the median is reported)")
	fs.StringVar(&cfg.dockerVersion, "docker-version", "28.5.2", "docker: the engine to run (one that make oracle built)")
	fs.IntVar(&cfg.dockerMax, "docker-max", dockerMax, "docker: the largest N it runs (a real engine takes some 0.4 s a container)")
	fs.BoolVar(&cfg.verbose, "v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		explicit := false
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "n" })
		if !explicit {
			*sizes = "10,100"
		}
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("bad lab size %q in -n (1 to 10000)", s)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	sort.Ints(cfg.sizes)
	for _, s := range strings.Split(*lines, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 || n > world.MaxLine {
			return nil, fmt.Errorf("bad line size %q in -lines (2 to %d)", s, world.MaxLine)
		}
		cfg.lines = append(cfg.lines, n)
	}
	if cfg.lineRuns < 1 {
		return nil, fmt.Errorf("-line-runs must be at least 1")
	}
	for _, m := range strings.Split(*methods, ",") {
		m = strings.TrimSpace(m)
		if !contains(allMethods, m) {
			return nil, fmt.Errorf("unknown method %q in -methods (%s)", m, strings.Join(allMethods, ", "))
		}
		cfg.methods = append(cfg.methods, m)
	}
	if cfg.upParallel < 1 || cfg.downParallel < 1 {
		return nil, fmt.Errorf("-up-parallel and -down-parallel must be at least 1")
	}
	return cfg, nil
}

// result is one method's measurement at one lab size.
type result struct {
	method string
	n      int
	up     time.Duration
	down   time.Duration
	cpu    time.Duration // CPU time of the benchmark and its children (docker: see benchDocker), up and down
	pss    int64         // bytes, all lab processes together, with the lab up
	procs  int           // lab processes counted in pss
	err    error
}

func (r result) perCtr(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond) / float64(r.n)
}

func run(cfg *config) error {
	if err := prerequisites(cfg); err != nil {
		return err
	}
	var cni *cniPlugins
	if contains(cfg.methods, methodCNI) {
		p, err := installCNI(cfg)
		if err != nil {
			return err
		}
		cni = p
	}
	var notes []string // methods not run, and why
	if contains(cfg.methods, methodDocker) {
		if why := dockerSkip(cfg); why != "" {
			notes = append(notes, "docker: skipped: "+why)
			cfg.methods = slices.DeleteFunc(cfg.methods, func(m string) bool { return m == methodDocker })
		} else if big := slices.DeleteFunc(slices.Clone(cfg.sizes), func(n int) bool { return n <= cfg.dockerMax }); len(big) > 0 {
			notes = append(notes, fmt.Sprintf("docker: not run at N=%s (above -docker-max %d: a real engine takes some 0.4 s a container)",
				joinInts(big), cfg.dockerMax))
		}
	}
	for _, note := range notes {
		cfg.logf("bench: %s", note)
	}
	var labStart labStarts
	var lines []lineStats
	if contains(cfg.methods, methodLabrun) {
		s, err := timeLabStarts(cfg.labStarts, cfg.labSettle)
		if err != nil {
			return fmt.Errorf("timing lab starts: %w", err)
		}
		labStart = s
		cfg.logf("bench: line worlds of %v routers ...", cfg.lines)
		if lines, err = timeLines(cfg.lines, cfg.lineRuns, cfg.labSettle); err != nil {
			return fmt.Errorf("timing line worlds: %w", err)
		}
	}
	var results []result
	failed := false
	for _, n := range cfg.sizes {
		for _, m := range cfg.methods {
			if m == methodDocker && n > cfg.dockerMax {
				continue
			}
			cfg.logf("bench: %s, N=%d ...", m, n)
			var r result
			cpu0 := cpuTime()
			switch m {
			case methodLabrun:
				r = benchLabrun(cfg, n)
			case methodShell:
				r = benchShell(cfg, n)
			case methodCNI:
				r = benchCNI(cfg, cni, n)
			case methodDocker:
				r = benchDocker(cfg, n)
			case methodFloor:
				r = benchFloor(cfg, n)
			}
			r.method, r.n = m, n
			if r.cpu == 0 {
				r.cpu = cpuTime() - cpu0
			}
			if r.err != nil {
				failed = true
				fmt.Fprintf(cfg.stderr, "labrun bench: %s at N=%d: %v\n", m, n, r.err)
			} else {
				cfg.logf("bench: %s, N=%d: up %v, down %v", m, n, r.up.Round(time.Millisecond), r.down.Round(time.Millisecond))
			}
			results = append(results, r)
		}
	}
	report(cfg, results, labStart, lines, notes)
	if failed {
		return errors.New("a method failed (see above)")
	}
	return nil
}

func (cfg *config) logf(format string, args ...any) {
	if cfg.verbose {
		fmt.Fprintf(cfg.stderr, format+"\n", args...)
	}
}

// prerequisites checks what every method needs, and puts the sbin
// directories on PATH (Debian's PATH for users lacks them).
func prerequisites(cfg *config) error {
	path := os.Getenv("PATH")
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !strings.Contains(":"+path+":", ":"+d+":") {
			path += ":" + d
		}
	}
	os.Setenv("PATH", path)
	if err := netns.Available(); err != nil {
		return fmt.Errorf("cannot make network namespaces (run as root): %w", err)
	}
	need := []string{"iptables-restore", "iptables-save"}
	if contains(cfg.methods, methodShell) || contains(cfg.methods, methodCNI) {
		need = append(need, "iptables", "ip", "sh")
	}
	for _, c := range need {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("finding %s: %w", c, err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// report prints the table, the notes and, last, the summary line.
func report(cfg *config, results []result, ls labStarts, lines []lineStats, notes []string) {
	w := cfg.stdout
	const row = "%-7s %5s  %10s  %12s  %11s  %11s  %7s  %7s\n"
	fmt.Fprintf(w, row, "method", "N", "up ms/ctr", "down ms/ctr", "PSS MB/ctr", "CPU ms/ctr", "up s", "down s")
	for _, r := range results {
		n := strconv.Itoa(r.n)
		if r.err != nil {
			fmt.Fprintf(w, row, r.method, n, "error", "error", "-", "-", "-", "-")
			continue
		}
		mem := "0 (none)"
		if r.procs > 0 {
			mem = fmt.Sprintf("%.2f", float64(r.pss)/float64(r.n)/(1<<20))
		}
		fmt.Fprintf(w, row, r.method, n, f2(r.perCtr(r.up)), f2(r.perCtr(r.down)), mem, f2(r.perCtr(r.cpu)),
			f2(r.up.Seconds()), f2(r.down.Seconds()))
	}
	for _, note := range notes {
		fmt.Fprintln(w, note)
	}
	if s := ls.settled; s.n > 0 {
		fmt.Fprintf(w, "fresh lab (NewLab + StartEngine: 5 namespaces, docker0, Docker's chains): median %.1f ms, min %.1f ms, max %.1f ms of %d, each %s after the last closed\n",
			ms(s.median), ms(s.min), ms(s.max), s.n, ls.settle)
	}
	if b := ls.backToBack; b.n > 0 {
		fmt.Fprintf(w, "fresh lab, back to back (the kernel still removing the last one): median %.1f ms, min %.1f ms, max %.1f ms of %d\n",
			ms(b.median), ms(b.min), ms(b.max), b.n)
	}
	reportLines(w, lines, cfg.labSettle)
	fmt.Fprintln(w, "PSS: /proc/PID/smaps_rollup summed over the lab's processes with the lab up (labrun: labrun itself and every container's main process; docker: every process of the engine, dockerd and containerd included); shell, cni and floor keep no process per container.")
	fmt.Fprintln(w, "CPU: user+system time of the benchmark and the processes it started (plugins, ip, iptables, the docker CLI; docker: and the engine's processes), up and down; the kernel's own threads are not counted.")
	// The summary line compares the largest N that labrun ran.
	var lab *result
	for i := range results {
		r := &results[i]
		if r.method == methodLabrun && r.err == nil && (lab == nil || r.n > lab.n) {
			lab = r
		}
	}
	if lab == nil {
		return
	}
	line := fmt.Sprintf("labrun at N=%d: up %.2f ms/container, down %.2f ms/container", lab.n, lab.perCtr(lab.up), lab.perCtr(lab.down))
	// Each comparison is at the largest N both ran (Docker's at most
	// -docker-max), up and down together: how many times faster labrun
	// is, and for the floor how many times the floor's time labrun takes.
	for _, m := range []struct {
		method, format string
		floor          bool
	}{
		{methodCNI, ", %.1f× faster than CNI", false},
		{methodShell, ", %.1f× faster than shell", false},
		{methodDocker, ", %.1f× faster than Docker " + cfg.dockerVersion, false},
		{methodFloor, ", %.1f× the floor", true},
	} {
		l, r := pairAt(results, m.method, lab.n)
		if r == nil {
			continue
		}
		ratio := float64(r.up+r.down) / float64(l.up+l.down)
		if m.floor {
			ratio = 1 / ratio
		}
		line += fmt.Sprintf(m.format, ratio)
		if r.n != lab.n {
			line += fmt.Sprintf(" at N=%d", r.n)
		}
	}
	fmt.Fprintln(w, line)
}

// pairAt returns labrun's and method's results at the largest N, up to
// max, at which both ran without error; nil when there is none.
func pairAt(results []result, method string, max int) (lab, other *result) {
	for i := range results {
		r := &results[i]
		if r.method != method || r.err != nil || r.n > max || (other != nil && r.n <= other.n) {
			continue
		}
		for j := range results {
			l := &results[j]
			if l.method == methodLabrun && l.err == nil && l.n == r.n {
				lab, other = l, r
			}
		}
	}
	return lab, other
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
