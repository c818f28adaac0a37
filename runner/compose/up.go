package compose

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/runner/dockercli"
	"github.com/labrun/labrun/runner/images"
)

// upFlags are docker compose up's flags that labrun acts on.
type upFlags struct {
	detach, noStart, noDeps, removeOrphans, forceRecreate, noRecreate bool
	noColor, noPrefix, build, noBuild, quietPull, yes, wait           bool
	timeout, pull                                                     string
}

func up(c *cmd, args []string) error {
	var f upFlags
	var attach, noAttach, scale []string
	var abortOnExit, abortOnFailure bool
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.Bool(&f.detach, "d", "detach")
	fs.Bool(&f.noStart, "", "no-start")
	fs.Bool(&f.noDeps, "", "no-deps")
	fs.Bool(&f.removeOrphans, "", "remove-orphans")
	fs.Bool(&f.forceRecreate, "", "force-recreate")
	fs.Bool(&f.noRecreate, "", "no-recreate")
	fs.Bool(&f.noColor, "", "no-color")
	fs.Bool(&f.noPrefix, "", "no-log-prefix")
	fs.Bool(&f.build, "", "build")
	fs.Bool(&f.noBuild, "", "no-build")
	fs.Bool(&f.quietPull, "", "quiet-pull")
	fs.Bool(&f.yes, "y", "yes")
	fs.Bool(&f.wait, "", "wait")
	fs.Bool(&abortOnExit, "", "abort-on-container-exit")
	fs.Bool(&abortOnFailure, "", "abort-on-container-failure")
	fs.String(&f.timeout, "t", "timeout")
	fs.String(&f.pull, "", "pull")
	fs.List(&attach, "", "attach")
	fs.List(&noAttach, "", "no-attach")
	fs.List(&scale, "", "scale")
	services, err := c.parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	// Compose's validateFlags, in its order (cmd/compose/up.go, v5.6.0).
	switch {
	case f.build && f.noBuild:
		return c.failf("--build and --no-build are incompatible")
	case f.detach && (abortOnExit || abortOnFailure || len(attach) > 0):
		return c.failf("--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch")
	case f.forceRecreate && f.noRecreate:
		return c.failf("--force-recreate and --no-recreate are incompatible")
	}
	p, err := c.load(c.ctx, services)
	if err != nil {
		return c.fail(err)
	}
	if f.noDeps {
		if p, err = p.WithSelectedServices(services, types.IgnoreDependencies); err != nil {
			return c.fail(err)
		}
	}
	eng, err := c.engine()
	if err != nil {
		return err
	}
	if err := c.create(eng, p, f); err != nil {
		return c.fail(err)
	}
	if f.noStart {
		return nil
	}
	if err := c.start(eng, p); err != nil {
		return c.fail(err)
	}
	if f.detach || f.wait {
		return nil
	}
	return c.attach(eng, p.Name, services, !f.noPrefix)
}

// engine is the lab's engine, or Compose's message when there is none.
func (c *cmd) engine() (*netkit.Engine, error) {
	eng, err := c.s.Engine()
	if err != nil {
		fmt.Fprintf(c.stderr(), "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n(labrun: %v)\n", err)
		return nil, &dockercli.ExitError{Cmd: "docker compose", Code: 1}
	}
	return eng, nil
}

// create is Compose's create (pkg/compose/create.go, v5.6.0): the images,
// the external networks, the project's networks, then each service's
// containers, as the plan of its reconciliation orders them.
func (c *cmd) create(eng *netkit.Engine, p *types.Project, f upFlags) error {
	if err := c.images(p, f); err != nil {
		return err
	}
	nets, err := networksOf(p)
	if err != nil {
		return err
	}
	for _, n := range nets {
		if n.external {
			if _, err := eng.Network(n.name); err != nil {
				return fmt.Errorf("network %s declared as external, but could not be found", n.name)
			}
		}
	}
	existing := projectContainers(eng, p.Name)
	if orphans := orphansOf(p, existing); len(orphans) > 0 && !f.removeOrphans {
		c.warn("Found orphan containers (%s) for this project. If you removed or renamed this service in your compose file, "+
			"you can run this command with the --remove-orphans flag to clean it up.", strings.Join(orphans, ", "))
	}
	for _, n := range nets {
		if n.external {
			continue
		}
		if have, err := eng.Network(n.name); err == nil {
			switch owner := have.Labels[labelProject]; {
			case owner == "":
				c.warn("a network with name %s exists but was not created by compose.\nSet `external: true` to use an existing network", n.name)
			case owner != p.Name:
				c.warn("a network with name %s exists but was not created for project %q.\nSet `external: true` to use an existing network", n.name, p.Name)
			}
			continue
		}
		if err := c.createNetwork(eng, n); err != nil {
			return err
		}
	}
	for _, name := range startOrder(p) {
		s := p.Services[name]
		for n := 1; n <= s.GetScale(); n++ {
			spec, err := containerOf(p, s, n, byService(eng, p.Name))
			if err != nil {
				return err
			}
			if err := c.ensureContainer(eng, spec, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// byService resolves network_mode service:NAME to the ID of the service's
// first container, as Compose's executor does from what it created.
func byService(eng *netkit.Engine, project string) func(string) (string, error) {
	return func(svc string) (string, error) {
		for _, x := range projectContainers(eng, project) {
			if x.Options().Labels[labelService] == svc {
				return x.ID, nil
			}
		}
		return "", fmt.Errorf("service %q has no container to share its network namespace with", svc)
	}
}

// images checks that each service's image is one labrun has, as Compose
// pulls the missing ones (pullRequiredImages) and builds those it can
// build (build.go), with their events.
func (c *cmd) images(p *types.Project, f upFlags) error {
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	var build []types.ServiceConfig
	for _, n := range names {
		s := p.Services[n]
		if _, ok := images.Lookup(s.Image); ok {
			continue
		}
		if s.Build != nil {
			build = append(build, s)
			continue
		}
		if f.pull == "never" {
			return fmt.Errorf("Error response from daemon: No such image: %s", s.Image)
		}
		c.eventDetail("Image "+s.Image, "Pulling", "")
		c.eventDetail("Image "+s.Image, "Error", pullError(s.Image))
		return fmt.Errorf("Error response from daemon: %s", pullError(s.Image))
	}
	if len(build) == 0 || f.noBuild {
		return nil
	}
	c.warn("buildx Docker CLI plugin not found: falling back to the classic builder. BuildKit-only build features " +
		"(multi-arch, secrets, ssh, additional contexts, ...) will not be available")
	s := build[0]
	c.event("Image "+imageName(p.Name, s), "Building")
	if _, err := os.Stat(s.Build.Context); err != nil {
		return fmt.Errorf("unable to prepare context: path %q not found", s.Build.Context)
	}
	return fmt.Errorf("Error response from daemon: labrun's engine builds no images: give service %q one of the built-in images (docker images) as its image:", s.Name)
}

// createNetwork creates one network with Compose's events: Creating and
// Created twice each, as the plan's executor and createNetwork each say
// them (pkg/compose/executor_events.go, create.go).
func (c *cmd) createNetwork(eng *netkit.Engine, n netSpec) error {
	id := "Network " + n.name
	c.event(id, "Creating")
	c.event(id, "Creating")
	var err error
	if n.driverErr != "" {
		err = errors.New(n.driverErr)
	} else {
		_, err = eng.CreateNetwork(n.opts)
	}
	if err != nil {
		msg := "Error response from daemon: " + dockercli.DaemonMsg(err)
		c.eventDetail(id, "Error", msg)
		failed := fmt.Sprintf("failed to create network %s: %s", n.name, msg)
		c.event(id, failed)
		return errors.New(failed)
	}
	c.event(id, "Created")
	c.event(id, "Created")
	return nil
}

// ensureContainer creates the container spec asks for, unless one is there
// and up to date; a changed one is recreated (--force-recreate: any).
func (c *cmd) ensureContainer(eng *netkit.Engine, spec ctrSpec, f upFlags) error {
	id := "Container " + spec.name
	old, err := eng.Container(spec.name)
	if err == nil {
		same := old.Options().Labels[labelHash] == spec.hash
		if f.noRecreate || same && !f.forceRecreate {
			if old.State() == "running" {
				c.event(id, "Running")
			}
			return nil
		}
		c.event(id, "Recreate")
		old.Stop(10 * time.Second)
		if err := eng.Remove(old.ID, true); err != nil {
			return c.containerError(id, err)
		}
		if _, err := c.s.Create(spec.spec); err != nil {
			return c.containerError(id, err)
		}
		c.event(id, "Recreated")
		return nil
	}
	c.event(id, "Creating")
	if _, err := c.s.Create(spec.spec); err != nil {
		return c.containerError(id, err)
	}
	c.event(id, "Created")
	return nil
}

// containerError is a failed operation on a container: the executor's
// error event, and the error Compose then prints.
func (c *cmd) containerError(id string, err error) error {
	msg := "Error response from daemon: " + dockercli.DaemonMsg(err)
	c.event(id, msg)
	return errors.New(msg)
}

// start starts the project's containers that are not running, each
// service after those it depends on, as the start phase of Compose's plan
// does: the container, its other networks, then its command.
func (c *cmd) start(eng *netkit.Engine, p *types.Project) error {
	for _, name := range startOrder(p) {
		s := p.Services[name]
		for n := 1; n <= s.GetScale(); n++ {
			ctr, err := eng.Container(containerName(p.Name, s, n))
			if err != nil || ctr.State() == "running" {
				continue
			}
			id := "Container " + ctr.Name
			spec, err := containerOf(p, s, n, byService(eng, p.Name))
			if err != nil {
				return err
			}
			c.event(id, "Starting")
			if err := ctr.Start(); err != nil {
				return c.containerError(id, err)
			}
			for _, j := range spec.connect {
				// Before API 1.44 Compose joins the other networks with
				// network connect (pkg/compose/create.go
				// defaultNetworkSettings, v5.6.0).
				j.opts.Created = endpointsAtCreate(eng)
				if err := eng.Connect(j.network, ctr.ID, j.opts); err != nil {
					return c.containerError(id, err)
				}
			}
			if err := c.s.RunCmd(c.ctx, ctr, c.o); err != nil {
				return c.containerError(id, err)
			}
			c.event(id, "Started")
		}
	}
	return nil
}

// endpointsAtCreate reports whether the engine takes every network at
// create (API 1.44, Docker 25, and later).
func endpointsAtCreate(eng *netkit.Engine) bool {
	v, _ := release.ParseAPIVersion(eng.APIVersion())
	return v >= release.EndpointMAC
}

// projectContainers are the containers of a project (by their labels, not
// the one-off ones), sorted by name.
func projectContainers(eng *netkit.Engine, project string) []*netkit.Container {
	var out []*netkit.Container
	for _, x := range eng.Containers(true) {
		l := x.Options().Labels
		if l[labelProject] == project && l[labelOneoff] != "True" {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// orphansOf names the project's containers whose service the project no
// longer has.
func orphansOf(p *types.Project, ctrs []*netkit.Container) []string {
	var out []string
	for _, x := range ctrs {
		svc := x.Options().Labels[labelService]
		if _, ok := p.Services[svc]; !ok {
			if _, disabled := p.DisabledServices[svc]; !disabled {
				out = append(out, x.Name)
			}
		}
	}
	return out
}
