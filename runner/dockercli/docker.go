package dockercli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner/dockerhost"
)

// Session is what a user of the docker CLI keeps from one command line to
// the next: the lab whose engine the commands drive, and whether the last
// dockerd failed. A scenario keeps one for its whole script; the zero value
// has no lab, which is enough for command lines that fail before they need
// an engine (a wrong flag or argument count).
type Session struct {
	// Lab is the lab whose engine the commands drive. Dockerd, and any
	// docker command that reaches the engine, need it; when it is nil,
	// OpenLab, if set, makes it then (a command line the CLI refuses needs
	// no lab).
	Lab     *netkit.Lab
	OpenLab func() (*netkit.Lab, error)
	// Plugins are the docker CLI plugins the session runs, by name
	// ("compose": `docker compose ...`; see Plugin).
	Plugins map[string]Plugin
	// engineDown holds the Docker hosts whose last Dockerd failed: their
	// engine is stopped, and docker commands must not start a new one.
	engineDown map[string]bool
	// pluginNode is the Docker host of the plugin command line running.
	pluginNode string
}

// IO is what one command line has of its caller: where it prints, and the
// variables of the caller's environment it reads.
type IO struct {
	// Stdout and Stderr receive the command's output and Docker's
	// messages; nil discards them.
	Stdout, Stderr io.Writer
	// Getenv reads the caller's variables: PATH, for the programs that
	// docker exec and docker run's COMMAND run, and DOCKER_CLI_VERSION,
	// the release of the CLI whose formats are printed (the engine's
	// when unset). Nil reads every variable as unset.
	Getenv func(key string) string
	// Stdin is the caller's input, which docker run -i, exec -i and
	// attach connect to a container's process; nil is an empty input
	// that is not a terminal (a scenario's, as with </dev/null).
	Stdin Input
	// Dir is the caller's directory, where relative paths are read
	// from (docker compose -f FILE); Environ lists the caller's
	// variables as KEY=VALUE (nil: none), for the plugins that read
	// them all (docker compose's interpolation).
	Dir     string
	Environ func() []string
}

// ExitError is a command line that failed after printing Docker's message
// on stderr itself. Code is the exit status docker or dockerd returns: 125
// for a docker run the CLI refused, 1 for an engine error, the program's
// own for docker exec.
type ExitError struct {
	// Cmd is the command as typed: "docker run", "docker container run",
	// "dockerd".
	Cmd  string
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("%s: exit status %d", e.Cmd, e.Code) }

// ErrNotImplemented reports a docker command line that names no subcommand
// labrun implements. Nothing was printed: the caller reports it as its own
// usage error; the error's text lists the subcommands there are.
var ErrNotImplemented = errors.New("not a docker command that labrun implements")

// Docker runs one docker command line (args after "docker", as
// ["run", "-d", "httpd"]) against the lab's engine, starting the engine with
// dockerd's defaults when the session has not started one. It prints what
// the docker CLI of the era prints; a failure is an *ExitError after
// Docker's message on o.Stderr, or ErrNotImplemented. ctx bounds the
// programs that docker exec and docker run run in the foreground.
func (s *Session) Docker(ctx context.Context, args []string, o IO) error {
	o = o.orDiscard()
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	node, host, args, err := dockerhost.GlobalFlags(args, getenv)
	if err != nil {
		fmt.Fprintln(o.Stderr, err)
		return &ExitError{Cmd: "docker", Code: 1}
	}
	if node == "" {
		node = s.localNode(getenv)
	}
	if len(args) == 0 {
		return fmt.Errorf("docker: no subcommand: %w (%s)", ErrNotImplemented, s.subNames())
	}
	if p := s.Plugins[args[0]]; p != nil {
		s.pluginNode = node
		return p(ctx, s, args[1:], o)
	}
	sub, n := lookupSub(args)
	if sub == nil {
		return fmt.Errorf("docker %s: %w (%s)", args[0], ErrNotImplemented, s.subNames())
	}
	d := &dockerCtx{s: s, ctx: ctx, o: o, sub: sub, path: "docker " + strings.Join(args[:n], " "), node: node, host: host}
	return sub.run(d, args[n:])
}

// subNames lists the subcommands and the plugins, for ErrNotImplemented.
func (s *Session) subNames() string {
	var names []string
	for _, sub := range dockerSubs {
		names = append(names, sub.Name)
	}
	for name := range s.Plugins {
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

// Dockerd (re)starts the engine of a Docker host of the lab (-H NODE; the
// first by default) with dockerd's networking flags (args after
// "dockerd"), after those of $LABRUN_DOCKERD and those the world gives the
// node. A running engine
// stops first, as when dockerd restarts; when the new one fails, the engine
// stays stopped and docker commands find no daemon until a Dockerd
// succeeds. A bad flag or a refused combination prints dockerd's own
// message on o.Stderr and returns an *ExitError.
func (s *Session) Dockerd(args []string, o IO) error {
	o = o.orDiscard()
	if err := s.openLab(); err != nil {
		return err
	}
	opts, err := s.daemonOptions(args, s.localNode(o.Getenv))
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s\nSee 'dockerd --help'.\n", err)
		return &ExitError{Cmd: "dockerd", Code: 1}
	}
	_, err = s.Lab.StartEngine(opts)
	if s.engineDown == nil {
		s.engineDown = map[string]bool{}
	}
	node := s.nodeName(opts.Node)
	s.engineDown[node] = err != nil && s.Lab.EngineOn(node) == nil
	if err != nil {
		fmt.Fprintf(o.Stderr, "failed to start daemon: %s\n", DaemonMsg(err))
		return &ExitError{Cmd: "dockerd", Code: 1}
	}
	return nil
}

// engine returns the engine of node ("": the lab's first Docker host),
// starting it with dockerd's defaults (and the world's flags for the node)
// when the session has not started one (the first docker command does
// that). After a dockerd that failed, the engine stays stopped, as a docker
// CLI finds no daemon then, until a dockerd succeeds.
func (s *Session) engine(node string) (*netkit.Engine, error) {
	if err := s.openLab(); err != nil {
		return nil, err
	}
	node = s.nodeName(node)
	if eng := s.Lab.EngineOn(node); eng != nil {
		return eng, nil
	}
	if s.engineDown[node] {
		return nil, errors.New("the engine is not running: the last dockerd failed")
	}
	o, err := s.daemonOptions(nil, node)
	if err != nil {
		return nil, fmt.Errorf("starting the engine with default flags: %s: %w", DockerdEnv, err)
	}
	eng, err := s.Lab.StartEngine(o)
	if err != nil {
		return nil, fmt.Errorf("starting the engine with default flags: %w", err)
	}
	return eng, nil
}

// openLab makes the session's lab with OpenLab when it has none.
func (s *Session) openLab() error {
	if s.Lab != nil || s.OpenLab == nil {
		return nil
	}
	lab, err := s.OpenLab()
	if err != nil {
		return err
	}
	s.Lab = lab
	return nil
}

func (o IO) orDiscard() IO {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return o
}

// Subcommand is one docker subcommand, defined as data: Use and Short are
// Docker's own usage line and description, used in its error messages
// ("See 'docker run --help'.") and in labrun's generated docs.
type Subcommand struct {
	// Name is the subcommand, one or two words ("run", "network ls").
	Name string
	// Aliases are other spellings ("container run", "container ls").
	Aliases []string
	// Use is the usage line after "docker ", as Docker's.
	Use string
	// Short is Docker's description.
	Short string
	// Note says how labrun's version differs from Docker's, if it does.
	Note string
	run  func(d *dockerCtx, args []string) error
}

// dockerSubs is the subcommand table, in the order of the docs.
var dockerSubs = []*Subcommand{
	{Name: "run", Aliases: []string{"container run"}, Use: "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Note: "Options: -d, -i, -t, --rm, --detach-keys, --name, -h/--hostname, -p/--publish, -P/--publish-all, --expose, " +
			"--net/--network (bridge, host, none, container:NAME, or a network's name), --ip, --mac-address, -e/--env, " +
			"--domainname, --network-alias, --link, --dns, --dns-search, --dns-option, --add-host (checked, and " +
			"shown by docker inspect, as Docker does). " +
			"IMAGE is one of the built-in images (`docker images`). With -d it prints the full container ID " +
			"and returns once the container's listeners accept connections. Without -d, a COMMAND runs in the " +
			"container in the foreground (its output printed, its exit status returned) and the container then " +
			"stops with its status; an image's own server runs as with -d but prints nothing. " +
			"With -i or -t, COMMAND (busybox: sh by default) runs on a pseudo-terminal (-t) or pipes (-i) and " +
			"stands for the main process: the container stops when it ends. Without -d the caller is attached, " +
			"as with Docker: -i passes its input, -t its terminal (in raw mode; ctrl-p ctrl-q detaches, " +
			"leaving the container running; `docker attach` attaches again). -it needs a terminal: a " +
			"scenario's input is not one (`the input device is not a TTY`, status 1), and its -i input is empty. " +
			"busybox without COMMAND, -i or -t exits at once, as Docker's does.",
		run: dockerRun},
	{Name: "ps", Aliases: []string{"container ls", "container list", "container ps"}, Use: "ps [OPTIONS]",
		Short: "List containers",
		Note:  "Options: -a, -q, -l, --no-trunc, --format. PORTS in the Docker 27 CLI's format (`0.0.0.0:801->80/tcp, :::801->80/tcp`).",
		run:   dockerPs},
	{Name: "port", Aliases: []string{"container port"}, Use: "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container", run: dockerPort},
	{Name: "inspect", Use: "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on Docker objects",
		Note:  "Options: -f/--format, --type (container, image, network). Containers, networks (including host and none) and images.",
		run:   dockerInspect},
	{Name: "container inspect", Use: "container inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers", run: dockerInspectType("container", "s", "size")},
	{Name: "exec", Aliases: []string{"container exec"}, Use: "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Note: "Options: -d, -i, -t, -e/--env, --detach-keys. Runs the real program inside the container's network and UTS namespaces, " +
			"in /, with the script's PATH; prints its output and fails with its exit status. With -t on a " +
			"pseudo-terminal, with -i on the caller's input, as docker run -i/-t (ctrl-p ctrl-q detaches: " +
			"`read escape sequence`, status 1).",
		run: dockerExec},
	{Name: "stop", Aliases: []string{"container stop"}, Use: "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers", Note: "Options: -t/--time.", run: dockerStop},
	{Name: "restart", Aliases: []string{"container restart"}, Use: "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers", Note: "Options: -t/--time.", run: dockerRestart},
	{Name: "start", Aliases: []string{"container start"}, Use: "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Note:  "Options: -a/--attach, -i/--interactive (one container, attached as by docker attach).", run: dockerStart},
	{Name: "attach", Aliases: []string{"container attach"}, Use: "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Note: "Options: --no-stdin, --sig-proxy, --detach-keys. Attaches to the process docker run -i/-t started " +
			"(or to the output of the image's program) until it ends, with its status, or ctrl-p ctrl-q " +
			"detaches (`read escape sequence`, status 1).", run: dockerAttach},
	{Name: "logs", Aliases: []string{"container logs"}, Use: "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Note: "Options: -f/--follow, -n/--tail, -t/--timestamps, --details. What the container's main process " +
			"wrote (httpd's error and access logs, the output of docker run's COMMAND or of its -i/-t shell), " +
			"its last 256 KiB; stderr apart unless the container has a terminal.", run: dockerLogs},
	{Name: "wait", Aliases: []string{"container wait"}, Use: "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes", run: dockerWait},
	{Name: "rm", Aliases: []string{"container rm"}, Use: "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers", Note: "Options: -f/--force.", run: dockerRm},
	{Name: "top", Aliases: []string{"container top"}, Use: "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Note:  "Always in `ps -ef`'s columns (UID PID PPID C STIME TTY TIME CMD), read from /proc.", run: dockerTop},
	{Name: "images", Aliases: []string{"image ls", "image list"}, Use: "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images", Note: "Options: -q. The built-in images.", run: dockerImages},
	{Name: "network ls", Aliases: []string{"network list"}, Use: "network ls [OPTIONS]",
		Short: "List networks", Note: "Options: -q, --no-trunc.", run: dockerNetworkLs},
	{Name: "network inspect", Use: "network inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks", Note: "Options: -f/--format.", run: dockerInspectType("network", "v", "verbose")},
	{Name: "network create", Use: "network create [OPTIONS] NETWORK",
		Short: "Create a network",
		Note:  "Options: -d/--driver (bridge, macvlan with -o parent= and -o macvlan_mode=, ipvlan with -o parent=, -o ipvlan_mode= and -o ipvlan_flag=), --subnet, --gateway, --ip-range, --internal, -o/--opt.", run: dockerNetworkCreate},
	{Name: "network rm", Aliases: []string{"network remove"}, Use: "network rm NETWORK [NETWORK...]",
		Short: "Remove one or more networks", run: dockerNetworkRm},
	{Name: "network connect", Use: "network connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network", Note: "Options: --ip, --alias.", run: dockerNetworkConnect},
	{Name: "network disconnect", Use: "network disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network", Note: "Options: -f/--force.", run: dockerNetworkDisconnect},
}

// lookupSub finds the subcommand that args start with, and how many words
// named it.
func lookupSub(args []string) (*Subcommand, int) {
	for _, n := range []int{2, 1} {
		if len(args) < n {
			continue
		}
		words := strings.Join(args[:n], " ")
		for _, s := range dockerSubs {
			if s.Name == words {
				return s, n
			}
			for _, a := range s.Aliases {
				if a == words {
					return s, n
				}
			}
		}
	}
	return nil, 0
}

// Subcommands lists the docker subcommands labrun implements, in the order
// of the docs.
func Subcommands() []Subcommand {
	var out []Subcommand
	for _, s := range dockerSubs {
		out = append(out, *s)
	}
	return out
}

// dockerCtx is one docker command being run: the session, the caller's
// context and IO, and what Docker's messages need to name the command.
type dockerCtx struct {
	s    *Session
	ctx  context.Context
	o    IO
	sub  *Subcommand
	path string // "docker run", or "docker container run" as typed
	// node is the Docker host the command drives (-H, $DOCKER_HOST; ""
	// for the first), host the -H value as given.
	node, host string
	// api is the engine API version the command speaks ("1.50"), set by
	// engine (apiVersion).
	api string
}

// Stdout, Stderr, Lab, Context and Getenv are what a subcommand reads of
// its session and its caller.
func (d *dockerCtx) Stdout() io.Writer        { return d.o.Stdout }
func (d *dockerCtx) Stderr() io.Writer        { return d.o.Stderr }
func (d *dockerCtx) Lab() *netkit.Lab         { return d.s.Lab }
func (d *dockerCtx) Context() context.Context { return d.ctx }
func (d *dockerCtx) Getenv(key string) string {
	if d.o.Getenv == nil {
		return ""
	}
	return d.o.Getenv(key)
}

// fail prints a message on stderr as the CLI does and returns the exit
// status as an error.
func (d *dockerCtx) fail(code int, format string, args ...any) error {
	fmt.Fprintf(d.Stderr(), format+"\n", args...)
	return &ExitError{Cmd: d.path, Code: code}
}

// flagErr reports a flag the CLI rejects (cobra's FlagErrorFunc).
func (d *dockerCtx) flagErr(err error) error {
	return d.fail(125, "%s", flagErrorText(d.cli(), err, d.path, d.sub.Use))
}

// daemonErr reports an engine error as the CLI prints an API error.
func (d *dockerCtx) daemonErr(err error) error {
	return d.fail(1, "Error response from daemon: %s", DaemonMsg(err))
}

// DaemonMsg is the engine's message for err. netkit's errors carry
// Docker's text; a few wrap a sentinel with %w and end in its text, which
// Docker's do not. Plugins print it too.
func DaemonMsg(err error) string {
	msg := err.Error()
	for _, s := range []error{netkit.ErrInvalid, netkit.ErrNotFound, netkit.ErrConflict, netkit.ErrNotRunning} {
		if errors.Is(err, s) && msg != s.Error() {
			msg = strings.TrimSuffix(msg, ": "+s.Error())
		}
	}
	return msg
}

// argsErr reports a wrong number of arguments with the CLI's text
// (cli.RequiresMinArgs and friends).
func (d *dockerCtx) argsErr(what string) error {
	return d.fail(1, "%q %s.\nSee '%s --help'.\n\nUsage:  docker %s\n\n%s", d.path, what, d.path, d.sub.Use, d.sub.Short)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// parse parses the subcommand's flags and checks the argument count
// (min and max; max < 0 for no limit), printing Docker's messages.
func (d *dockerCtx) parse(fs *FlagSet, args []string, min, max int) ([]string, error) {
	rest, err := fs.Parse(args)
	if err != nil {
		return nil, d.flagErr(err)
	}
	switch {
	case max == 0 && len(rest) > 0:
		return nil, d.argsErr("accepts no arguments")
	case min == max && len(rest) != min:
		return nil, d.argsErr("requires exactly " + plural(min, "argument"))
	case max > 0 && min > 0 && (len(rest) < min || len(rest) > max):
		return nil, d.argsErr(fmt.Sprintf("requires at least %d and at most %s", min, plural(max, "argument")))
	case max > 0 && len(rest) > max:
		return nil, d.argsErr("requires at most " + plural(max, "argument"))
	case len(rest) < min:
		return nil, d.argsErr("requires at least " + plural(min, "argument"))
	}
	return rest, nil
}

// parseEngine parses like parse and then returns the lab's engine like
// engine: the CLI checks its command line before it connects to the
// daemon.
func (d *dockerCtx) parseEngine(fs *FlagSet, args []string, min, max int) ([]string, *netkit.Engine, error) {
	rest, err := d.parse(fs, args, min, max)
	if err != nil {
		return nil, nil, err
	}
	eng, err := d.engine()
	if err != nil {
		return nil, nil, err
	}
	return rest, eng, nil
}

// parseContainer is parseEngine for a subcommand whose first argument
// names a container: it returns that container, or reports the daemon's
// error.
func (d *dockerCtx) parseContainer(fs *FlagSet, args []string, min, max int) ([]string, *netkit.Container, error) {
	rest, eng, err := d.parseEngine(fs, args, min, max)
	if err != nil {
		return nil, nil, err
	}
	c, err := eng.Container(rest[0])
	if err != nil {
		return nil, nil, d.daemonErr(err)
	}
	return rest, c, nil
}

// engine returns the lab's engine, starting it if needed, and sets the
// API version the command speaks; an engine that refuses the version
// $DOCKER_API_VERSION asks for fails every command, as with the CLI.
func (d *dockerCtx) engine() (*netkit.Engine, error) {
	eng, err := d.s.engine(d.node)
	if err != nil {
		return nil, d.fail(1, "Cannot connect to the Docker daemon at %s. Is the docker daemon running?\n(labrun: %v)", d.daemonURL(), err)
	}
	if d.api, err = d.apiVersion(eng); err != nil {
		return nil, d.daemonErr(err)
	}
	return eng, nil
}
