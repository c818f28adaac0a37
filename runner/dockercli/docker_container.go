package dockercli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner/images"
)

// psRowOf reads what docker ps shows of a container.
func psRowOf(c *netkit.Container) psRow {
	j := c.Inspect()
	r := psRow{
		ID: c.ID, Image: j.Config.Image, Command: strings.Join(append([]string{j.Path}, j.Args...), " "),
		Created: c.Created, State: j.State.Status, ExitCode: j.State.ExitCode, Name: c.Name,
	}
	r.StartedAt, _ = time.Parse(time.RFC3339Nano, j.State.StartedAt)
	r.FinishedAt, _ = time.Parse(time.RFC3339Nano, j.State.FinishedAt)
	for key, bs := range j.NetworkSettings.Ports {
		num, proto, _ := strings.Cut(key, "/")
		n, _ := strconv.ParseUint(num, 10, 16)
		if len(bs) == 0 {
			r.Ports = append(r.Ports, psPort{PrivatePort: uint16(n), Type: proto})
		}
		for _, b := range bs {
			hp, _ := strconv.ParseUint(b.HostPort, 10, 16)
			r.Ports = append(r.Ports, psPort{IP: b.HostIp, PrivatePort: uint16(n), PublicPort: uint16(hp), Type: proto})
		}
	}
	for name := range j.NetworkSettings.Networks {
		r.Networks = append(r.Networks, name)
	}
	sort.Strings(r.Networks)
	return r
}

func dockerPs(d *dockerCtx, args []string) error {
	var all, quiet, latest, noTrunc bool
	var format string
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&all, "a", "all")
	fs.Bool(&quiet, "q", "quiet")
	fs.Bool(&latest, "l", "latest")
	fs.Bool(&noTrunc, "", "no-trunc")
	fs.String(&format, "", "format")
	_, eng, err := d.parseEngine(fs, args, 0, 0)
	if err != nil {
		return err
	}
	cs := eng.Containers(all || latest)
	if latest && len(cs) > 1 {
		cs = cs[:1]
	}
	var rows []psRow
	for _, c := range cs {
		rows = append(rows, psRowOf(c))
	}
	out, err := formatPs(rows, format, quiet, !noTrunc, time.Now(), d.cli())
	if err != nil {
		return d.fail(1, "%v", err)
	}
	fmt.Fprint(d.Stdout(), out)
	return nil
}

// portsMap is NetworkSettings.Ports as docker port reads it.
func portsMap(c *netkit.Container) map[string][][2]string {
	m := map[string][][2]string{}
	for key, bs := range c.Inspect().NetworkSettings.Ports {
		for _, b := range bs {
			m[key] = append(m[key], [2]string{b.HostIp, b.HostPort})
		}
	}
	return m
}

func dockerPort(d *dockerCtx, args []string) error {
	rest, c, err := d.parseContainer(&FlagSet{Interspersed: true}, args, 1, 2)
	if err != nil {
		return err
	}
	only := ""
	if len(rest) == 2 {
		port, proto, _ := strings.Cut(rest[1], "/")
		if proto == "" {
			proto = "tcp"
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return d.fail(1, "Error: invalid port (%s): %v", port, err)
		}
		only = port + "/" + proto
		if len(portsMap(c)[only]) == 0 {
			return d.fail(1, "Error: No public port '%s' published for %s", rest[1], rest[0])
		}
	}
	if lines := portLines(portsMap(c), only); len(lines) > 0 {
		fmt.Fprintln(d.Stdout(), strings.Join(lines, "\n"))
	}
	return nil
}

// imageJSON is docker image inspect's object (the fields labrun knows).
type imageJSON struct {
	Id            string
	RepoTags      []string
	RepoDigests   []string
	Parent        string
	Comment       string
	Created       string
	DockerVersion string
	Author        string
	Config        imageConfig
	Architecture  string
	Os            string
	Size          int64
}

type imageConfig struct {
	ExposedPorts map[string]struct{} `json:",omitempty"`
	Cmd          []string
}

func imageInspect(im images.Image) imageJSON {
	sum := sha256.Sum256([]byte("labrun image " + im.Ref()))
	j := imageJSON{
		Id: "sha256:" + hex.EncodeToString(sum[:]), RepoTags: []string{im.Ref()}, RepoDigests: []string{},
		Created: im.Created, Architecture: "amd64", Os: "linux", Size: parseSize(im.Size),
		Config: imageConfig{Cmd: strings.Fields(strings.Trim(im.Command, `"`))},
	}
	if len(im.Expose) > 0 {
		j.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range im.Expose {
			j.Config.ExposedPorts[p.String()] = struct{}{}
		}
	}
	return j
}

// parseSize reads docker images' SIZE ("148MB", "4.26MB") back into bytes,
// in the CLI's decimal units.
func parseSize(s string) int64 {
	units := []struct {
		suffix string
		mult   float64
	}{{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, _ := strconv.ParseFloat(num, 64)
			return int64(f * u.mult)
		}
	}
	return 0
}

// lookupObject finds what docker inspect names: a container, an image or a
// network (host and none included), in the CLI's order, limited to typ
// unless it is "", as the engine answers a client of API version api. It
// returns nil when nothing matches.
func lookupObject(eng *netkit.Engine, ref, typ, api string) (any, error) {
	if typ == "" || typ == "container" {
		c, err := eng.Container(ref)
		if err == nil {
			return c.InspectAPI(api), nil
		}
		if typ != "" || !errors.Is(err, netkit.ErrNotFound) {
			return nil, err
		}
	}
	if typ == "" || typ == "image" {
		if im, ok := images.Lookup(ref); ok {
			return imageInspect(im), nil
		}
		if typ != "" {
			return nil, fmt.Errorf("No such image: %s", imageRef(ref)) //nolint:staticcheck // Docker's text
		}
	}
	if typ == "" || typ == "network" {
		for _, n := range netkit.HostNetworks() {
			if n.Name == ref || n.Id == ref {
				return n, nil
			}
		}
		n, err := eng.Network(ref)
		if err == nil {
			return n.InspectAPI(eng, api), nil
		}
		if typ != "" || !errors.Is(err, netkit.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

func dockerInspect(d *dockerCtx, args []string) error {
	var format, typ string
	var size bool
	fs := &FlagSet{Interspersed: true}
	fs.String(&format, "f", "format")
	fs.String(&typ, "", "type")
	fs.Bool(&size, "s", "size")
	refs, err := d.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	switch typ {
	case "", "container", "image", "network":
	default:
		return d.fail(1, "%q is not a valid value for --type", typ)
	}
	return d.inspect(refs, format, typ)
}

// dockerInspectType is docker inspect of one object type: docker container
// inspect (whose other flag is -s/--size) and docker network inspect
// (-v/--verbose). That flag changes nothing labrun prints.
func dockerInspectType(typ, short, long string) func(d *dockerCtx, args []string) error {
	return func(d *dockerCtx, args []string) error {
		var format string
		var ignored bool
		fs := &FlagSet{Interspersed: true}
		fs.String(&format, "f", "format")
		fs.Bool(&ignored, short, long)
		refs, err := d.parse(fs, args, 1, -1)
		if err != nil {
			return err
		}
		return d.inspect(refs, format, typ)
	}
}

// inspect prints the objects (JSON, or the template per object) and then
// the errors for those it did not find, as the CLI's inspect.Inspect does.
func (d *dockerCtx) inspect(refs []string, format, typ string) error {
	eng, err := d.engine()
	if err != nil {
		return err
	}
	var objs []any
	var errs []string
	for _, ref := range refs {
		obj, err := lookupObject(eng, ref, typ, d.api)
		switch {
		case err != nil:
			errs = append(errs, "Error response from daemon: "+DaemonMsg(err))
		case obj == nil:
			errs = append(errs, "Error: No such object: "+ref)
		default:
			objs = append(objs, obj)
		}
	}
	var out string
	switch format {
	case "":
		out, err = inspectJSON(objs)
	case "json":
		out, err = inspectCompact(objs)
	default:
		if out, err = inspectTemplate(format, objs); err == nil && out == "" {
			out = "\n"
		}
	}
	if err != nil {
		return d.fail(64, "%v", err)
	}
	fmt.Fprint(d.Stdout(), out)
	if len(errs) > 0 {
		return d.fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}

func dockerExec(d *dockerCtx, args []string) error {
	var detach, interactive, tty bool
	var env []string
	var keys string
	fs := &FlagSet{}
	fs.Bool(&detach, "d", "detach")
	fs.Bool(&interactive, "i", "interactive")
	fs.Bool(&tty, "t", "tty")
	fs.List(&env, "e", "env")
	fs.String(&keys, "", "detach-keys")
	rest, c, err := d.parseContainer(fs, args, 2, -1)
	if err != nil {
		return err
	}
	if !detach && (interactive || tty) {
		return d.execConsole(c, rest[1:], env, tty, interactive, keys)
	}
	cmd, err := d.execIn(c, rest[1:], env, tty)
	if err != nil {
		return err
	}
	if detach {
		return d.startDetached(c, cmd)
	}
	if tty {
		cmd.Stderr = d.Stdout()
	}
	return d.startAttached(c, cmd)
}

// forEachRef runs do on every ref in order and prints each ref it succeeds
// on, as docker stop, rm, start and network rm do; failed gets the others
// and their errors, in order, for the subcommand's own reporting.
func (d *dockerCtx) forEachRef(refs []string, do func(ref string) error, failed func(ref string, err error)) {
	for _, ref := range refs {
		if err := do(ref); err != nil {
			failed(ref, err)
			continue
		}
		fmt.Fprintln(d.Stdout(), ref)
	}
}

// eachContainer runs f on every named container, printing each name on
// success and collecting the errors, as docker stop and rm do; an error
// skip accepts is printed at once and does not fail the command.
func (d *dockerCtx) eachContainer(refs []string, f func(ref string) error, skip func(error) bool) error {
	var errs []string
	d.forEachRef(refs, f, func(_ string, err error) {
		msg := "Error response from daemon: " + DaemonMsg(err)
		if skip != nil && skip(err) {
			fmt.Fprintln(d.Stderr(), msg)
			return
		}
		errs = append(errs, msg)
	})
	if len(errs) > 0 {
		return d.fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}

func dockerStop(d *dockerCtx, args []string) error { return stopOrRestart(d, args, false) }

// dockerRestart is docker restart: each container stopped (if it runs)
// and started again, its name printed.
func dockerRestart(d *dockerCtx, args []string) error { return stopOrRestart(d, args, true) }

func stopOrRestart(d *dockerCtx, args []string, restart bool) error {
	var timeout string
	fs := &FlagSet{Interspersed: true}
	fs.String(&timeout, "t", "time")
	refs, err := d.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	wait := 10 * time.Second
	if timeout != "" {
		n, err := strconv.Atoi(timeout)
		if err != nil {
			return d.flagErr(&flagError{fmt.Sprintf("invalid argument %q for \"-t, --time\" flag: %v", timeout, err)})
		}
		wait = time.Duration(n) * time.Second
	}
	eng, err := d.engine()
	if err != nil {
		return err
	}
	return d.eachContainer(refs, func(ref string) error {
		c, err := eng.Container(ref)
		if err != nil {
			return err
		}
		if restart {
			if err := settle(c, c.Restart(wait)); err != nil {
				return err
			}
			return d.restartConsole(c)
		}
		return c.Stop(wait)
	}, nil)
}

func dockerStart(d *dockerCtx, args []string) error {
	var attach, interactive bool
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&attach, "a", "attach")
	fs.Bool(&interactive, "i", "interactive")
	refs, eng, err := d.parseEngine(fs, args, 1, -1)
	if err != nil {
		return err
	}
	if attach || interactive {
		return d.startAttach(eng, refs, interactive)
	}
	var failed []string
	d.forEachRef(refs, func(ref string) error {
		c, err := eng.Container(ref)
		if err != nil {
			return err
		}
		if err := settle(c, c.Start()); err != nil {
			return err
		}
		return d.restartConsole(c)
	}, func(ref string, err error) {
		fmt.Fprintf(d.Stderr(), "Error response from daemon: %s\n", DaemonMsg(err))
		failed = append(failed, ref)
	})
	if len(failed) > 0 {
		return d.fail(1, "Error: failed to start containers: %s", strings.Join(failed, ", "))
	}
	return nil
}

// settle waits, after a start that succeeded, for a container whose main
// program ends at once (endsAtOnce).
func settle(c *netkit.Container, startErr error) error {
	if startErr == nil && endsAtOnce(c) {
		c.Wait()
	}
	return startErr
}

// dockerWait is docker wait: each container's exit status once it has
// stopped.
func dockerWait(d *dockerCtx, args []string) error {
	refs, eng, err := d.parseEngine(&FlagSet{}, args, 1, -1)
	if err != nil {
		return err
	}
	var errs []string
	for _, ref := range refs {
		c, err := eng.Container(ref)
		if err != nil {
			errs = append(errs, "Error response from daemon: "+DaemonMsg(err))
			continue
		}
		fmt.Fprintln(d.Stdout(), c.Wait())
	}
	if len(errs) > 0 {
		return d.fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}

func dockerRm(d *dockerCtx, args []string) error {
	var force, volumes bool
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&force, "f", "force")
	fs.Bool(&volumes, "v", "volumes")
	refs, eng, err := d.parseEngine(fs, args, 1, -1)
	if err != nil {
		return err
	}
	return d.eachContainer(refs, func(ref string) error {
		return eng.Remove(ref, force)
	}, func(err error) bool { return force && errors.Is(err, netkit.ErrNotFound) })
}

func dockerTop(d *dockerCtx, args []string) error {
	_, c, err := d.parseContainer(&FlagSet{}, args, 1, -1)
	if err != nil {
		return err
	}
	if c.State() != "running" {
		return d.fail(1, "Error response from daemon: container %s is not running", c.ID)
	}
	titles, procs := processTable(c.Processes(), time.Now())
	fmt.Fprint(d.Stdout(), formatTop(titles, procs))
	return nil
}

func dockerImages(d *dockerCtx, args []string) error {
	var quiet, all bool
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&quiet, "q", "quiet")
	fs.Bool(&all, "a", "all")
	rest, err := d.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	var rows []imageRow
	for _, im := range images.All() {
		if len(rest) == 1 {
			repo, tag, hasTag := strings.Cut(rest[0], ":")
			if repo != im.Name || hasTag && tag != im.Tag {
				continue
			}
		}
		created, _ := time.Parse(time.RFC3339, im.Created)
		rows = append(rows, imageRow{Repository: im.Name, Tag: im.Tag, ID: im.ID, Size: im.Size, Created: created})
	}
	fmt.Fprint(d.Stdout(), formatImages(rows, quiet, time.Now()))
	return nil
}
