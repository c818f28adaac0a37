package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/labrun/labrun/runner/dockercli"
)

// Version is the Docker Compose release whose outputs labrun prints, and
// which its labels name (com.docker.compose.version).
const Version = "5.6.0"

// Plugin is `docker compose`: args are the words after "compose". It
// prints what Docker Compose prints; a failure is an *dockercli.ExitError
// after Compose's message on o.Stderr.
func Plugin(ctx context.Context, s *dockercli.Session, args []string, o dockercli.IO) error {
	c := &cmd{ctx: ctx, s: s, o: o, env: map[string]string{}}
	if o.Environ != nil {
		for _, kv := range o.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			c.env[k] = v
		}
	}
	// A live lab's shell sends its variables, its directory among them
	// (its keeper runs every command in the lab's); a scenario has none.
	if pwd := c.env["PWD"]; filepath.IsAbs(pwd) {
		c.o.Dir = pwd
	}
	return c.run(args)
}

// cmd is one docker compose command line being run.
type cmd struct {
	ctx  context.Context
	s    *dockercli.Session
	o    dockercli.IO
	env  map[string]string // the caller's variables
	opts options
	sub  *Subcommand
	now  func() time.Time // the clock of logrus's lines and docker compose ps
}

// options are docker compose's own flags, before the subcommand.
type options struct {
	files, envFiles, profiles []string
	project, projectDir       string
	progress, ansi            string
	dryRun, compatibility     bool
	parallel                  string
}

// Subcommand is one docker compose subcommand, defined as data: Use and
// Short are Compose's own usage line and description.
type Subcommand struct {
	Name, Use, Short string
	// Note says what labrun's version does, and how it differs.
	Note string
	run  func(c *cmd, args []string) error
}

// subcommands is the table, in the order of Compose's help.
var subcommands = []*Subcommand{
	{Name: "up", Use: "up [OPTIONS] [SERVICE...]", Short: "Create and start containers",
		Note: "Options: -d/--detach, --no-start, --no-deps, --remove-orphans, --force-recreate, --no-recreate, -t/--timeout, " +
			"--no-color, --no-log-prefix, --pull, --build, --no-build, --quiet-pull, -y/--yes. Networks first, then each service's " +
			"containers in depends_on order, with Compose's progress lines on stderr (its plain form: ` Container demo-web-1 Started `). " +
			"A container already up to date stays (`Running`); one whose service changed is recreated. Without -d, it then prints the " +
			"containers' logs, prefixed, until they have all stopped.",
		run: up},
	{Name: "down", Use: "down [OPTIONS] [SERVICES]", Short: "Stop and remove containers, networks",
		Note: "Options: -t/--timeout, -v/--volumes, --remove-orphans, --rmi. The project's containers (found by their labels, in " +
			"reverse depends_on order), then its networks; external networks stay, and a network another container still uses " +
			"stays (`Resource is still in use`).",
		run: down},
	{Name: "ps", Use: "ps [OPTIONS] [SERVICE...]", Short: "List containers",
		Note: "Options: -a/--all, -q/--quiet, --services, --format, --status, --filter status=, --no-trunc, --orphans.",
		run:  ps},
	{Name: "port", Use: "port [OPTIONS] SERVICE [PRIVATE_PORT]",
		Short: "List port mappings or print the public port for a specific mapping for the service",
		Note:  "Options: --protocol, --index.", run: port},
	{Name: "exec", Use: "exec [OPTIONS] SERVICE COMMAND [ARGS...]", Short: "Execute a command in a running container",
		Note: "Options: -d/--detach, -e/--env, -T/--no-tty, --index, -w/--workdir, -u/--user, --privileged. As docker exec on the " +
			"service's first container; without a terminal (a scenario's), no pseudo-TTY, as Compose decides.",
		run: exec},
	{Name: "logs", Use: "logs [OPTIONS] [SERVICE...]", Short: "View output from containers",
		Note: "Options: -f/--follow, -n/--tail, -t/--timestamps, --no-color, --no-log-prefix, --index. Each line after " +
			"`web-1  | `, as docker logs of each container.",
		run: logs},
	{Name: "config", Use: "config [OPTIONS] [SERVICE...]", Short: "Parse, resolve and render compose file in canonical format",
		Note: "Options: --services, --networks, --volumes, --images, -q/--quiet, --format yaml|json, --no-interpolate (ignored). " +
			"The canonical form compose-go writes.",
		run: config},
	{Name: "version", Use: "version [OPTIONS]", Short: "Show the Docker Compose version information",
		Note: "Options: --short, -f/--format.", run: version},
}

// Subcommands lists docker compose's subcommands, in the order of the docs.
func Subcommands() []Subcommand {
	var out []Subcommand
	for _, s := range subcommands {
		out = append(out, *s)
	}
	return out
}

func (c *cmd) stdout() io.Writer { return c.o.Stdout }
func (c *cmd) stderr() io.Writer { return c.o.Stderr }

// getenv reads a variable of the caller.
func (c *cmd) getenv(k string) string {
	if v, ok := c.env[k]; ok {
		return v
	}
	if c.o.Getenv != nil {
		return c.o.Getenv(k)
	}
	return ""
}

func (c *cmd) run(args []string) error {
	if c.now == nil {
		c.now = time.Now
	}
	fs := &dockercli.FlagSet{}
	fs.List(&c.opts.files, "f", "file")
	fs.String(&c.opts.project, "p", "project-name")
	fs.String(&c.opts.projectDir, "", "project-directory")
	fs.String(&c.opts.projectDir, "", "workdir")
	fs.List(&c.opts.envFiles, "", "env-file")
	fs.List(&c.opts.profiles, "", "profile")
	fs.String(&c.opts.progress, "", "progress")
	fs.String(&c.opts.ansi, "", "ansi")
	fs.String(&c.opts.parallel, "", "parallel")
	fs.Bool(&c.opts.dryRun, "", "dry-run")
	fs.Bool(&c.opts.compatibility, "", "compatibility")
	var allResources, showVersion bool
	fs.Bool(&allResources, "", "all-resources")
	fs.Bool(&showVersion, "v", "version")
	rest, err := fs.Parse(args)
	if err != nil {
		return c.fail(err)
	}
	if len(rest) == 0 {
		if showVersion {
			return version(c, nil)
		}
		fmt.Fprint(c.stdout(), usage())
		return nil
	}
	for _, sub := range subcommands {
		if sub.Name == rest[0] {
			c.sub = sub
			return sub.run(c, rest[1:])
		}
	}
	fmt.Fprint(c.stdout(), usage())
	return c.failf("unknown docker command: %q", "compose "+rest[0])
}

// usage is what docker compose prints without a subcommand (the first
// lines of its help).
func usage() string {
	var b strings.Builder
	b.WriteString("\nUsage:  docker compose [OPTIONS] COMMAND\n\nDefine and run multi-container applications with Docker\n\nCommands:\n")
	subs := Subcommands()
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	for _, s := range subs {
		fmt.Fprintf(&b, "  %-12s%s\n", s.Name, s.Short)
	}
	b.WriteString("\nRun 'docker compose COMMAND --help' for more information on a command.\n")
	return b.String()
}

// fail prints err as the docker CLI's plugin runner does (its text, then
// exit status 1), unless it is an *ExitError, printed already.
func (c *cmd) fail(err error) error {
	var ee *dockercli.ExitError
	if errors.As(err, &ee) {
		return err
	}
	fmt.Fprintln(c.stderr(), err)
	return &dockercli.ExitError{Cmd: "docker compose", Code: 1}
}

func (c *cmd) failf(format string, args ...any) error { return c.fail(fmt.Errorf(format, args...)) }

// parse parses a subcommand's flags, and checks its argument count as
// cobra's Args do (max < 0: no limit), with cobra's texts.
func (c *cmd) parse(fs *dockercli.FlagSet, args []string, min, max int) ([]string, error) {
	rest, err := fs.Parse(args)
	if err != nil {
		return nil, c.fail(err)
	}
	n := len(rest)
	switch {
	case min == max && n != min:
		return nil, c.failf("accepts %d arg(s), received %d", min, n)
	case max >= 0 && min > 0 && (n < min || n > max):
		return nil, c.failf("accepts between %d and %d arg(s), received %d", min, max, n)
	case n < min:
		return nil, c.failf("requires at least %d arg(s), only received %d", min, n)
	}
	return rest, nil
}

// progress prints Compose's events as its plain writer does on a stream
// that is not a terminal (docker/compose v5.6.0 cmd/display/plain.go: one
// space, the resource, its status, one space and the details), which is
// how labrun always prints them.
func (c *cmd) event(id, status string) { c.eventDetail(id, status, "") }

func (c *cmd) eventDetail(id, status, detail string) {
	fmt.Fprintln(c.stderr(), "", id, status, detail)
}

// warn prints a warning as Compose's logger (logrus) does on a stream that
// is not a terminal; log prints a line of another level.
func (c *cmd) warn(format string, args ...any) { c.log("warning", format, args...) }

func (c *cmd) log(level, format string, args ...any) {
	fmt.Fprintf(c.stderr(), "time=%q level=%s msg=%q\n", c.now().Format(time.RFC3339), level, fmt.Sprintf(format, args...))
}

func version(c *cmd, args []string) error {
	var short bool
	var format string
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.Bool(&short, "", "short")
	fs.String(&format, "f", "format")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	switch {
	case short:
		fmt.Fprintln(c.stdout(), Version)
	case format == "json":
		fmt.Fprintf(c.stdout(), "{\"version\":\"v%s\"}\n", Version)
	default:
		fmt.Fprintf(c.stdout(), "Docker Compose version v%s\n", Version)
	}
	return nil
}
