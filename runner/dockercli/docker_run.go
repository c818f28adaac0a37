package dockercli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proc"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/runner/images"
)

// runFlags is a parsed docker run command line.
type runFlags struct {
	detach, interactive, tty, rm, publishAll     bool
	name, hostname, domainname, network, ip, mac string
	detachKeys                                   string
	ip6                                          string // --ip6
	publish, expose, env                         []string
	// The name options, as the CLI's validators left them (opts.go).
	aliases, links, dns, dnsSearch, dnsOptions, extraHosts []string
	image                                                  string
	command                                                []string
}

// parseRunFlags parses docker run's flags. As in Docker, the first argument
// that is not a flag is the image and everything after it is the command,
// flags included. The error is a *flagError (pflag's text) or an argument
// count error.
func parseRunFlags(args []string) (runFlags, error) {
	var f runFlags
	var nets []string
	fs := &FlagSet{}
	fs.Bool(&f.detach, "d", "detach")
	fs.Bool(&f.interactive, "i", "interactive")
	fs.Bool(&f.tty, "t", "tty")
	fs.Bool(&f.rm, "", "rm")
	fs.String(&f.detachKeys, "", "detach-keys")
	fs.String(&f.name, "", "name")
	fs.String(&f.hostname, "h", "hostname")
	fs.List(&f.publish, "p", "publish")
	fs.Bool(&f.publishAll, "P", "publish-all")
	fs.List(&f.expose, "", "expose")
	fs.List(&nets, "", "net")
	fs.List(&nets, "", "network")
	fs.String(&f.ip, "", "ip")
	fs.String(&f.ip6, "", "ip6")
	fs.String(&f.mac, "", "mac-address")
	fs.List(&f.env, "e", "env")
	fs.String(&f.domainname, "", "domainname")
	// --net-alias and --dns-opt are the CLI's hidden old spellings.
	fs.List(&f.aliases, "", "network-alias")
	fs.List(&f.aliases, "", "net-alias")
	fs.CheckedList(&f.links, "", "link", validateLink)
	fs.CheckedList(&f.dns, "", "dns", validateIPAddress)
	fs.CheckedList(&f.dnsSearch, "", "dns-search", validateDNSSearch)
	fs.List(&f.dnsOptions, "", "dns-option")
	fs.List(&f.dnsOptions, "", "dns-opt")
	fs.CheckedList(&f.extraHosts, "", "add-host", validateExtraHost)
	rest, err := fs.Parse(args)
	if err != nil {
		return f, err
	}
	if len(nets) > 0 {
		f.network = nets[len(nets)-1]
	}
	if len(rest) == 0 {
		return f, errNoImage
	}
	f.image = rest[0]
	if len(rest) > 1 {
		f.command = rest[1:]
	}
	return f, nil
}

var errNoImage = errors.New("no image")

// runError is a docker run failure before the engine was asked to create
// anything: msg is Docker's text; daemon tells whether Docker's daemon or its
// CLI says it.
type runError struct {
	msg    string
	daemon bool
	// notFound: the image is not in the catalogue (Docker would pull).
	notFound bool
}

func (e *runError) Error() string { return e.msg }

// imageRef normalises an image reference as Docker names it when pulling:
// "httpd" → "httpd:latest".
func imageRef(s string) string {
	if strings.Contains(s, ":") || strings.Contains(s, "@") {
		return s
	}
	return s + ":latest"
}

// runOptions turns docker run's flags into netkit's options: the image's
// program and EXPOSE ports, the parsed -p and --expose specs, the network
// mode. With a COMMAND, the container's main process only waits: the runner
// runs COMMAND in it (see dockerRun).
func runOptions(f runFlags) (netkit.RunOptions, error) {
	var mac net.HardwareAddr
	if f.mac != "" {
		// The CLI checks it before anything else (docker/cli v28.2.2
		// cli/command/container/opts.go parse).
		var err error
		if mac, err = net.ParseMAC(strings.TrimSpace(f.mac)); err != nil {
			return netkit.RunOptions{}, &runError{msg: f.mac + " is not a valid mac address"}
		}
	}
	if len(f.aliases) > 0 && !userDefined(f.network) {
		// The CLI's own check (docker/cli cli/command/container/opts.go
		// parseNetworkAttachmentOpt, v28.0.0), before it asks the engine.
		return netkit.RunOptions{}, &runError{msg: "network-scoped aliases are only supported for user-defined networks"}
	}
	im, ok := images.Lookup(f.image)
	if !ok {
		repo, _, _ := strings.Cut(f.image, ":")
		return netkit.RunOptions{}, &runError{daemon: true, notFound: true,
			msg: fmt.Sprintf("pull access denied for %s, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", repo)}
	}
	o := netkit.RunOptions{
		Name: f.name, Hostname: f.hostname, Image: f.image, Remove: f.rm, PublishAll: f.publishAll,
		Program: im.Main(f.interactive, f.tty), Comm: im.Comm, Command: strings.Trim(im.Command, `"`),
		Expose: im.Expose, Domainname: f.domainname, Aliases: f.aliases, MacAddress: mac,
		DNSSearch: f.dnsSearch, DNSOptions: f.dnsOptions, ExtraHosts: f.extraHosts, Env: f.env,
	}
	for _, l := range f.links {
		link, _ := parseLink(l) // checked as the flag was set
		o.Links = append(o.Links, link)
	}
	for _, s := range f.dns {
		a, _ := netip.ParseAddr(s) // net.IP's form, which netip reads
		o.DNS = append(o.DNS, a)
	}
	if len(f.command) > 0 {
		o.Program = ""
		o.Comm = filepath.Base(f.command[0])
		o.Command = strings.Join(f.command, " ")
	}
	for _, spec := range f.publish {
		bs, err := ports.ParsePublish(spec)
		if err != nil {
			return o, specError(err)
		}
		o.Publish = append(o.Publish, bs...)
	}
	for _, spec := range f.expose {
		ps, err := ports.ParseExpose(spec)
		if err != nil {
			return o, specError(err)
		}
		o.ExtraExpose = append(o.ExtraExpose, ps...)
	}
	if f.network != "" {
		m, err := netkit.ParseMode(f.network)
		if err != nil {
			return o, &runError{msg: DaemonMsg(err), daemon: true}
		}
		o.Network = m
	}
	if f.ip != "" {
		a, err := netip.ParseAddr(f.ip)
		if err != nil || !a.Is4() {
			return o, &runError{msg: "invalid IPv4 address: " + f.ip}
		}
		o.IP = a
	}
	if f.ip6 != "" {
		a, err := netip.ParseAddr(f.ip6)
		if err != nil || !a.Is6() || a.Is4In6() {
			return o, &runError{msg: "invalid IPv6 address: " + f.ip6}
		}
		o.IP6 = a
	}
	return o, nil
}

func specError(err error) error {
	var se *ports.SpecError
	if errors.As(err, &se) {
		return &runError{msg: se.Msg, daemon: se.FromDaemon}
	}
	return &runError{msg: err.Error()}
}

// macRefusal is the refusal of docker run's --mac-address where the
// engine's API is older than 1.44 (release.EndpointMAC): the CLI's own, if
// it sends the MAC per network (25 and later), or else the engine's, which
// takes Config.MacAddress in bridge networks only (none too before 25).
func (d *dockerCtx) macRefusal(mode netkit.Mode) error {
	eng, err := d.engine()
	if err != nil {
		return err
	}
	v, err := d.apiVersion(eng)
	if err != nil {
		return &runError{msg: DaemonMsg(err), daemon: true}
	}
	if api, _ := release.ParseAPIVersion(v); api >= release.EndpointMAC {
		return nil
	}
	own := eng.Options().API()
	if cli, ok := cliAPI(d.Getenv("DOCKER_CLI_VERSION")); ok {
		own = cli
	}
	if own >= release.EndpointMAC {
		return &runError{msg: `"specify mac-address per network" requires API version 1.44, but the Docker daemon API version is ` + v}
	}
	if mode.Kind == netkit.ModeHost || mode.Kind == netkit.ModeContainer || mode.Kind == netkit.ModeNone && eng.Options().API() >= release.EndpointMAC {
		return &runError{msg: "conflicting options: mac-address and the network mode", daemon: true}
	}
	return nil
}

// reportRun prints a docker run error as the CLI of the script's era does
// (withHelp): before 28 "docker: MSG." with one trailing dot, and
// the help line when asked.
func (d *dockerCtx) reportRun(msg string, help bool, code int) error {
	return d.fail(code, "%s", withHelp(d.cli(), msg, d.path, help))
}

func dockerRun(d *dockerCtx, args []string) error {
	f, err := parseRunFlags(args)
	switch {
	case errors.Is(err, errNoImage):
		return d.argsErr("requires at least 1 argument")
	case err != nil:
		return d.flagErr(err)
	}
	o, err := runOptions(f)
	if err == nil && o.MacAddress != nil {
		err = d.macRefusal(o.Network)
	}
	var re *runError
	errors.As(err, &re)
	warning, early := localhostDNSWarning(d.cli(), f.dns)
	if warning != "" && early && (err == nil || re.daemon) {
		fmt.Fprintf(d.Stderr(), "WARNING: %s\n", warning)
	}
	if err == nil || re.daemon {
		// The CLI's check, before it asks the daemon for anything.
		if !f.detach {
			if terr := d.checkTty(f.interactive, f.tty); terr != nil {
				return terr
			}
		}
	}
	if err != nil {
		if re.notFound {
			fmt.Fprintf(d.Stderr(), "Unable to find image '%s' locally\n", imageRef(f.image))
		}
		if re.daemon {
			return d.reportRun("Error response from daemon: "+re.msg, true, 125)
		}
		return d.reportRun(re.msg, true, 125)
	}
	eng, err := d.engine()
	if err != nil {
		return err
	}
	b := newBox(f)
	o.Stdout, o.Stderr = logWriter{b, false}, logWriter{b, true}
	c, err := eng.Create(o)
	if err != nil {
		return d.reportRun("Error response from daemon: "+DaemonMsg(err), true, 125)
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(d.Stderr(), "WARNING: %s\n", w)
	}
	if warning != "" && !early {
		fmt.Fprintf(d.Stderr(), "WARNING: %s\n", warning)
	}
	interactive := f.interactive || f.tty
	if f.detach {
		fmt.Fprintln(d.Stdout(), c.ID)
	}
	if err := c.Start(); err != nil {
		if f.rm {
			eng.Remove(c.ID, true)
		}
		code := 125
		if errors.Is(err, netkit.ErrNoExecutable) {
			code = 127
		}
		return d.reportRun("Error response from daemon: "+DaemonMsg(err), false, code)
	}
	switch {
	case endsAtOnce(c):
		// Docker's run -d returns as it ends; attached, with its status.
		if code := c.Wait(); code != 0 && !f.detach {
			return &ExitError{Cmd: d.path, Code: code}
		}
	case interactive:
		return d.runConsole(c, b, f.detach, f.detachKeys)
	case len(f.command) > 0 && f.detach:
		cmd, err := d.execIn(c, f.command, f.env, f.tty)
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = streamWriter{b.out, false}, streamWriter{b.out, true}
		return d.startDetached(c, cmd)
	case len(f.command) > 0:
		cmd, err := d.execIn(c, f.command, f.env, f.tty)
		if err != nil {
			c.Stop(10 * time.Second)
			return err
		}
		cmd.Stdout = io.MultiWriter(d.Stdout(), streamWriter{b.out, false})
		cmd.Stderr = io.MultiWriter(d.Stderr(), streamWriter{b.out, true})
		err = d.startAttached(c, cmd)
		b.out.log.flush()
		// The command stands for the main process: the container stops
		// with its status.
		code := 0
		var ee *ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		if serr := c.StopAs(code); serr != nil && err == nil {
			err = d.daemonErr(serr)
		}
		return err
	}
	return nil
}

// newBox makes the box of a container docker run creates: its log and,
// with -i or -t, its console's command: COMMAND, or the image's shell
// (busybox's sh); none for an image whose program is the main process.
func newBox(f runFlags) *box {
	b := &box{out: newFanout(newLog()), tty: f.tty, stdin: f.interactive}
	if !f.interactive && !f.tty {
		return b
	}
	b.argv = f.command
	if im, _ := images.Lookup(f.image); len(b.argv) == 0 && im.Program == "" {
		b.argv = []string{im.Comm}
	}
	b.env = f.env
	return b
}

// endsAtOnce reports whether c's main program ends as soon as it starts
// (busybox's sh on end of file): docker run, start and restart wait for
// it, so that the container is exited when they return, as Docker's is a
// moment later.
func endsAtOnce(c *netkit.Container) bool { return c.Options().Program == images.ProgramShellEOF }

// execIn prepares argv to run inside c as docker exec does: the script's
// PATH, the container's hostname and variables, in /. Errors are printed as Docker does.
func (d *dockerCtx) execIn(c *netkit.Container, argv, extraEnv []string, tty bool) (*exec.Cmd, error) {
	env := []string{"PATH=" + d.Getenv("PATH"), "HOSTNAME=" + c.Hostname(), "HOME=/root"}
	if tty {
		env = append(env, "TERM=xterm")
	}
	// The container's own variables (docker run -e, Compose's
	// environment:), then the command's, as the engine merges them.
	env = append(append(env, c.Options().Env...), extraEnv...)
	cmd, err := c.Exec(env, images.Argv(argv, exec.LookPath)...)
	if err != nil {
		if errors.Is(err, netkit.ErrInvalid) {
			// The runtime's own message (command not found), printed raw.
			return nil, d.fail(126, "%s", DaemonMsg(err))
		}
		return nil, d.daemonErr(err)
	}
	cmd.Dir = "/"
	return cmd, nil
}

// startDetached starts cmd in c and leaves it running; it is reaped in the
// background and killed when the container stops.
func (d *dockerCtx) startDetached(c *netkit.Container, cmd *exec.Cmd) error {
	if err := c.StartExec(cmd); err != nil {
		return d.daemonErr(err)
	}
	go cmd.Wait()
	// Docker returns once the program runs; ours first runs as labrun's
	// namespace wrapper, which then replaces itself with the program.
	waitExeced(d.Context(), cmd.Process.Pid)
	return nil
}

// waitExeced polls, for up to 2s, until process pid is no longer this
// binary (it has called execve) or has gone.
func waitExeced(ctx context.Context, pid int) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || exe != self {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// startAttached runs cmd in c, its output where cmd.Stdout and Stderr say
// (the script's buffers when unset), and returns its exit status as Docker
// does (silently).
func (d *dockerCtx) startAttached(c *netkit.Container, cmd *exec.Cmd) error {
	if cmd.Stdout == nil {
		cmd.Stdout, cmd.Stderr = d.Stdout(), d.Stderr()
	}
	if err := c.StartExec(cmd); err != nil {
		return d.daemonErr(err)
	}
	err := proc.Wait(d.Context(), cmd)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return &ExitError{Cmd: d.path, Code: proc.ExitCode(ee.ProcessState)}
	default:
		return fmt.Errorf("%s: %w", d.path, err)
	}
}
