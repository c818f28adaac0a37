package compose

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner/dockercli"
)

// exec is docker compose exec: docker exec on the service's container,
// with Compose's defaults (cmd/compose/exec.go, v5.6.0): stdin open, and a
// pseudo-terminal only when the caller has one.
func exec(c *cmd, args []string) error {
	var detach, noTty, privileged bool
	var env []string
	var index, user, workdir string
	interactive, tty := true, true
	fs := &dockercli.FlagSet{}
	fs.Bool(&detach, "d", "detach")
	fs.List(&env, "e", "env")
	fs.String(&index, "", "index")
	fs.Bool(&privileged, "", "privileged")
	fs.String(&user, "u", "user")
	fs.Bool(&noTty, "T", "no-tty")
	fs.Bool(&noTty, "", "no-TTY")
	fs.String(&workdir, "w", "workdir")
	fs.Bool(&interactive, "i", "interactive")
	fs.Bool(&tty, "t", "tty")
	rest, err := c.parse(fs, args, 2, -1)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(orZero(index))
	if err != nil {
		return c.failf("invalid argument %q for \"--index\" flag: %v", index, err)
	}
	terminal := c.o.Stdin != nil && c.o.Stdin.IsTerminal()
	if !terminal && !hasFlag(args[:len(args)-len(rest)], "-T", "--no-tty", "--no-TTY") {
		noTty = true // its default: not a terminal, no TTY
	}
	name, err := c.toProjectName()
	if err != nil {
		return c.fail(err)
	}
	eng, err := c.engine()
	if err != nil {
		return err
	}
	x, err := c.specified(eng, name, rest[0], n)
	if err != nil {
		return c.fail(err)
	}
	argv := []string{"exec"}
	if interactive && c.o.Stdin != nil {
		argv = append(argv, "-i")
	}
	if !noTty {
		argv = append(argv, "-t")
	}
	if detach {
		argv = append(argv, "-d")
	}
	for _, e := range env {
		if !strings.Contains(e, "=") {
			if v, ok := c.env[e]; ok {
				e += "=" + v
			}
		}
		argv = append(argv, "-e", e)
	}
	// A failed command's status is exec's, printed by nothing more
	// (Compose exits with it).
	return c.s.Docker(c.ctx, append(append(argv, x.ID), rest[1:]...), c.o)
}

// hasFlag reports whether args name one of the flags.
func hasFlag(args []string, flags ...string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		for _, f := range flags {
			if name == f {
				return true
			}
		}
	}
	return false
}

func logs(c *cmd, args []string) error {
	var follow, noColor, noPrefix, timestamps bool
	var index, since, until string
	tail := "all"
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.Bool(&follow, "f", "follow")
	fs.String(&index, "", "index")
	fs.String(&since, "", "since")
	fs.String(&until, "", "until")
	fs.Bool(&noColor, "", "no-color")
	fs.Bool(&noPrefix, "", "no-log-prefix")
	fs.Bool(&timestamps, "t", "timestamps")
	fs.String(&tail, "n", "tail")
	services, err := c.parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	if index != "" && index != "0" && len(services) != 1 {
		return c.failf("--index requires one service to be selected")
	}
	p, name, err := c.projectOrName(services)
	if err != nil {
		return c.fail(err)
	}
	if p != nil && len(services) == 0 {
		for n, s := range p.Services {
			if s.Attach == nil || *s.Attach {
				services = append(services, n)
			}
		}
	}
	eng, err := c.engine()
	if err != nil {
		return err
	}
	var ctrs []*netkit.Container
	for _, x := range projectContainers(eng, name) {
		l := x.Options().Labels
		if (len(services) == 0 || contains(services, l[labelService])) && (index == "" || index == "0" || l[labelNumber] == index) {
			ctrs = append(ctrs, x)
		}
	}
	opts := []string{"--tail", tail}
	if timestamps {
		opts = append(opts, "-t")
	}
	if follow {
		opts = append(opts, "-f")
	}
	return c.printLogs(ctrs, opts, !noPrefix)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// printLogs prints the containers' logs (docker logs with opts), each
// line after the container's name in the project, padded to the longest
// (cmd/formatter/logs.go: `web-1     | `), one container after the other,
// or all at once when they follow.
func (c *cmd) printLogs(ctrs []*netkit.Container, opts []string, prefix bool) error {
	width := 0
	for _, x := range ctrs {
		width = max(width, len(shortName(x)))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	follow := contains(opts, "-f")
	for _, x := range ctrs {
		p := ""
		if prefix {
			p = fmt.Sprintf("%-*s | ", width+1, shortName(x))
		}
		out := &linePrefixer{w: c.stdout(), prefix: p, mu: &mu}
		errOut := &linePrefixer{w: c.stderr(), prefix: p, mu: &mu}
		run := func() {
			c.s.Docker(c.ctx, append(append([]string{"logs"}, opts...), x.ID), dockercli.IO{Stdout: out, Stderr: errOut, Getenv: c.o.Getenv})
			out.flush()
			errOut.flush()
		}
		if !follow {
			run()
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	wg.Wait()
	return nil
}

// shortName is a container's name without its project's
// (getContainerNameWithoutProject): web-1, or its container_name.
func shortName(x *netkit.Container) string {
	l := x.Options().Labels
	def := l[labelProject] + "-" + l[labelService] + "-" + l[labelNumber]
	if x.Name != def {
		return x.Name
	}
	return x.Name[len(l[labelProject])+1:]
}

// linePrefixer writes each whole line after a prefix.
type linePrefixer struct {
	w      io.Writer
	prefix string
	mu     *sync.Mutex
	buf    []byte
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		l.mu.Lock()
		io.WriteString(l.w, l.prefix+string(l.buf[:i+1]))
		l.mu.Unlock()
		l.buf = l.buf[i+1:]
	}
}

func (l *linePrefixer) flush() {
	if len(l.buf) > 0 {
		l.Write([]byte("\n"))
	}
}

// attach is the end of up without -d (pkg/compose/attach.go): "Attaching
// to" the containers, then their logs as they come, until they have all
// stopped or the caller stops.
func (c *cmd) attach(eng *netkit.Engine, project string, services []string, prefix bool) error {
	var ctrs []*netkit.Container
	var names []string
	for _, x := range projectContainers(eng, project) {
		if len(services) == 0 || contains(services, x.Options().Labels[labelService]) {
			ctrs = append(ctrs, x)
			names = append(names, shortName(x))
		}
	}
	if len(ctrs) == 0 {
		return nil
	}
	fmt.Fprintf(c.stdout(), "Attaching to %s\n", strings.Join(names, ", "))
	return c.printLogs(ctrs, []string{"--tail", "all", "-f"}, prefix)
}

func config(c *cmd, args []string) error {
	var format, output, hash string
	var quiet, services, volumes, networks, images, profiles, noInterpolate, noNormalize, noPaths, noConsistency bool
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.String(&format, "", "format")
	fs.String(&output, "o", "output")
	fs.String(&hash, "", "hash")
	fs.Bool(&quiet, "q", "quiet")
	fs.Bool(&services, "", "services")
	fs.Bool(&volumes, "", "volumes")
	fs.Bool(&networks, "", "networks")
	fs.Bool(&images, "", "images")
	fs.Bool(&profiles, "", "profiles")
	fs.Bool(&noInterpolate, "", "no-interpolate")
	fs.Bool(&noNormalize, "", "no-normalize")
	fs.Bool(&noPaths, "", "no-path-resolution")
	fs.Bool(&noConsistency, "", "no-consistency")
	names, err := c.parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	if services || volumes || networks || images || profiles {
		names = nil
	}
	p, err := c.load(c.ctx, names)
	if err != nil {
		return c.fail(err)
	}
	var lines []string
	switch {
	case services:
		err = p.ForEachService(p.ServiceNames(), func(name string, _ *types.ServiceConfig) error {
			lines = append(lines, name)
			return nil
		})
	case volumes:
		for n := range p.Volumes {
			lines = append(lines, n)
		}
		sort.Strings(lines)
	case networks:
		for n := range p.Networks {
			lines = append(lines, n)
		}
		sort.Strings(lines)
	case images:
		for _, n := range p.ServiceNames() {
			lines = append(lines, imageName(p.Name, p.Services[n]))
		}
	case profiles:
		lines = p.AllServices().GetProfiles()
		sort.Strings(lines)
	}
	if err != nil {
		return c.fail(err)
	}
	if lines != nil || services || volumes || networks || images || profiles {
		for _, l := range lines {
			fmt.Fprintln(c.stdout(), l)
		}
		return nil
	}
	if err := p.CheckContainerNameUnicity(); err != nil {
		return c.fail(err)
	}
	var b []byte
	switch format {
	case "", "yaml":
		b, err = p.MarshalYAML()
	case "json":
		b, err = p.MarshalJSON()
	default:
		return c.failf("unsupported format %q", format)
	}
	if err != nil {
		return c.fail(err)
	}
	b = []byte(strings.ReplaceAll(string(b), "$", "$$"))
	if quiet {
		return nil
	}
	fmt.Fprint(c.stdout(), string(b))
	return nil
}
