package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/netns"
)

const usage = `usage: labrun bench [-quick] [-n 10,100,1000] [-methods labrun,shell,cni] [flags]

bench builds a lab of N busybox containers on docker0, each publishing
-p 20000+i:80, and removes it again, with labrun's engine, with a shell
script of ip and iptables commands, and with the CNI reference plugins
(bridge + host-local + portmap), each in scratch network namespaces of its
own, and prints the cost per container of each. Needs root (or
CAP_SYS_ADMIN and CAP_NET_ADMIN), ip, iptables and iptables-restore; the
cni method also needs the go command the first time, to install the plugins
into its cache directory.

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
	sizes        []int
	methods      []string
	upParallel   int
	downParallel int
	cacheDir     string
	cniVersion   string
	labStarts    int
	labSettle    time.Duration
	verbose      bool

	stdout, stderr io.Writer
}

var allMethods = []string{methodLabrun, methodShell, methodCNI}

const (
	methodLabrun = "labrun"
	methodShell  = "shell"
	methodCNI    = "cni"
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
	methods := fs.String("methods", strings.Join(allMethods, ","), "methods to run, comma-separated: labrun, shell, cni")
	quick := fs.Bool("quick", false, "a short run: -n 10,100")
	cfg := &config{}
	fs.IntVar(&cfg.upParallel, "up-parallel", 16, "labrun: docker run calls at once, as xargs -P or compose would issue them (1: one after the other)")
	fs.IntVar(&cfg.downParallel, "down-parallel", 50, "labrun: docker rm -f calls at once (50: what docker rm -f A B C... does)")
	fs.StringVar(&cfg.cacheDir, "cache", "", "directory for the installed CNI plugins (default: the user cache directory's labrun/bench)")
	fs.StringVar(&cfg.cniVersion, "cni-version", cniVersion, "github.com/containernetworking/plugins version to install")
	fs.IntVar(&cfg.labStarts, "lab-starts", 10, "fresh labs (NewLab + StartEngine) to time for the lab start figure, back to back and settled")
	fs.DurationVar(&cfg.labSettle, "lab-settle", 300*time.Millisecond, "pause before each settled fresh lab, for the kernel to finish removing the last one")
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
	for _, m := range strings.Split(*methods, ",") {
		m = strings.TrimSpace(m)
		switch m {
		case methodLabrun, methodShell, methodCNI:
			cfg.methods = append(cfg.methods, m)
		default:
			return nil, fmt.Errorf("unknown method %q in -methods (labrun, shell, cni)", m)
		}
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
	cpu    time.Duration // CPU time of the benchmark and its children, up and down
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
	var labStart labStarts
	if contains(cfg.methods, methodLabrun) {
		s, err := timeLabStarts(cfg.labStarts, cfg.labSettle)
		if err != nil {
			return fmt.Errorf("timing lab starts: %w", err)
		}
		labStart = s
	}
	var results []result
	failed := false
	for _, n := range cfg.sizes {
		for _, m := range cfg.methods {
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
			}
			r.method, r.n, r.cpu = m, n, cpuTime()-cpu0
			if r.err != nil {
				failed = true
				fmt.Fprintf(cfg.stderr, "labrun bench: %s at N=%d: %v\n", m, n, r.err)
			} else {
				cfg.logf("bench: %s, N=%d: up %v, down %v", m, n, r.up.Round(time.Millisecond), r.down.Round(time.Millisecond))
			}
			results = append(results, r)
		}
	}
	report(cfg, results, labStart)
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

// report prints the table and, last, the summary line.
func report(cfg *config, results []result, ls labStarts) {
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
	if s := ls.settled; s.n > 0 {
		fmt.Fprintf(w, "fresh lab (NewLab + StartEngine: 5 namespaces, docker0, Docker's chains): median %.1f ms, min %.1f ms, max %.1f ms of %d, each %s after the last closed\n",
			ms(s.median), ms(s.min), ms(s.max), s.n, ls.settle)
	}
	if b := ls.backToBack; b.n > 0 {
		fmt.Fprintf(w, "fresh lab, back to back (the kernel still removing the last one): median %.1f ms, min %.1f ms, max %.1f ms of %d\n",
			ms(b.median), ms(b.min), ms(b.max), b.n)
	}
	fmt.Fprintln(w, "PSS: /proc/PID/smaps_rollup summed over the lab's processes with the lab up (labrun: labrun itself and every container's main process); shell and cni keep no process per container.")
	fmt.Fprintln(w, "CPU: user+system time of the benchmark and the processes it started (plugins, ip, iptables), up and down; the kernel's own threads are not counted.")
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
	for _, m := range []struct{ method, name string }{{methodCNI, "CNI"}, {methodShell, "shell"}} {
		for _, r := range results {
			if r.method == m.method && r.n == lab.n && r.err == nil {
				line += fmt.Sprintf(", %.1f× faster than %s", float64(r.up+r.down)/float64(lab.up+lab.down), m.name)
			}
		}
	}
	fmt.Fprintln(w, line)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
