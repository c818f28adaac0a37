package compose

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner/dockercli"
)

func down(c *cmd, args []string) error {
	var volumes, removeOrphans bool
	var timeout, rmi string
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.Bool(&volumes, "v", "volumes")
	fs.Bool(&volumes, "", "volume")
	fs.Bool(&removeOrphans, "", "remove-orphans")
	fs.String(&timeout, "t", "timeout")
	fs.String(&rmi, "", "rmi")
	services, err := c.parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	if rmi != "" && rmi != "all" && rmi != "local" {
		return c.failf("invalid value for --rmi: %q", rmi)
	}
	wait, err := stopTimeout(timeout)
	if err != nil {
		return c.fail(err)
	}
	p, name, err := c.projectOrName(services)
	if err != nil {
		return c.fail(err)
	}
	eng, err := c.engine()
	if err != nil {
		return err
	}
	if err := c.down(eng, p, name, services, wait, removeOrphans); err != nil {
		return c.fail(err)
	}
	return nil
}

// stopTimeout is -t's wait before a stop kills (10 s by default).
func stopTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 10 * time.Second, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New(`invalid argument "` + s + `" for "-t, --timeout" flag: ` + err.Error())
	}
	return time.Duration(n) * time.Second, nil
}

// down is Compose's down (pkg/compose/down.go, v5.6.0): the project's
// containers, each service's after those of the services that depend on
// it, then its networks but external ones. Without its files, the project
// is what the engine's labels say of it (getProjectWithResources).
func (c *cmd) down(eng *netkit.Engine, p *types.Project, name string, services []string, wait time.Duration, removeOrphans bool) error {
	ctrs := projectContainers(eng, name)
	order, deps, nets := c.shape(eng, p, name, ctrs)
	var selected []string
	for _, s := range services {
		if !slices.Contains(order, s) {
			if p != nil {
				_, err := p.GetService(s)
				return err
			}
			continue
		}
		selected = append(selected, s)
	}
	if len(services) > 0 && len(selected) == 0 {
		c.log("info", "Any of the services %v not running in project %q", services, name)
		return nil
	}
	// The services that go: those asked for and those that depend on them.
	goes := func(svc string) bool { return len(selected) == 0 || slices.Contains(selected, svc) }
	if len(selected) > 0 {
		for changed := true; changed; {
			changed = false
			for _, s := range order {
				for _, d := range deps[s] {
					if goes(d) && !goes(s) {
						selected, changed = append(selected, s), true
					}
				}
			}
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		if !goes(order[i]) {
			continue
		}
		for _, x := range ctrs {
			if x.Options().Labels[labelService] == order[i] {
				if err := c.removeContainer(eng, x, wait); err != nil {
					return err
				}
			}
		}
	}
	if removeOrphans {
		for _, x := range ctrs {
			if !slices.Contains(order, x.Options().Labels[labelService]) {
				if err := c.removeContainer(eng, x, wait); err != nil {
					return err
				}
			}
		}
	}
	if len(ctrs) == 0 && len(nets) == 0 {
		c.warn("Warning: No resource found to remove for project %q.", name)
	}
	for _, n := range nets {
		if err := c.removeNetwork(eng, name, n); err != nil {
			return err
		}
	}
	return nil
}

// shape is what down knows of the project: its services in start order,
// what each depends on, and its networks (key and name) but external
// ones, from its files or else from the engine's labels.
func (c *cmd) shape(eng *netkit.Engine, p *types.Project, name string, ctrs []*netkit.Container) ([]string, map[string][]string, [][2]string) {
	deps := map[string][]string{}
	var nets [][2]string
	if p != nil {
		for s, cfg := range p.Services {
			deps[s] = cfg.GetDependencies()
		}
		specs, _ := networksOf(p)
		for _, n := range specs {
			if !n.external {
				nets = append(nets, [2]string{n.key, n.name})
			}
		}
		return startOrder(p), deps, nets
	}
	lp := &types.Project{Name: name, Services: types.Services{}}
	for _, x := range ctrs {
		l := x.Options().Labels
		s := types.ServiceConfig{Name: l[labelService], WorkloadSpec: types.WorkloadSpec{DependsOn: types.DependsOnConfig{}}}
		for _, d := range strings.Split(l[labelDependsOn], ",") {
			if dep, _, _ := strings.Cut(d, ":"); dep != "" {
				s.DependsOn[dep] = types.ServiceDependency{}
			}
		}
		lp.Services[s.Name] = s
		deps[s.Name] = s.GetDependencies()
	}
	for _, n := range eng.Networks() {
		if n.Labels[labelProject] == name {
			nets = append(nets, [2]string{n.Labels[labelNetwork], n.Name})
		}
	}
	sort.Slice(nets, func(i, j int) bool { return nets[i][0] < nets[j][0] })
	return startOrder(lp), deps, nets
}

// removeContainer stops and removes one container, with Compose's events
// (stopAndRemoveContainer).
func (c *cmd) removeContainer(eng *netkit.Engine, x *netkit.Container, wait time.Duration) error {
	id := "Container " + x.Name
	c.event(id, "Stopping")
	if err := x.Stop(wait); err != nil && !errors.Is(err, netkit.ErrNotRunning) {
		c.eventDetail(id, "Error", "Error while Stopping")
		return err
	}
	c.event(id, "Stopped")
	c.event(id, "Removing")
	if err := eng.Remove(x.ID, true); err != nil && !errors.Is(err, netkit.ErrNotFound) {
		c.eventDetail(id, "Error", "Error while Removing")
		return err
	}
	c.event(id, "Removed")
	return nil
}

// removeNetwork removes a network of the project, found by its labels,
// unless a container still uses it (removeNetwork).
func (c *cmd) removeNetwork(eng *netkit.Engine, project string, n [2]string) error {
	var found *netkit.Network
	for _, x := range eng.Networks() {
		if x.Labels[labelProject] == project && x.Labels[labelNetwork] == n[0] && x.Name == n[1] {
			found = x
		}
	}
	if found == nil {
		return nil
	}
	id := "Network " + n[1]
	c.event(id, "Removing")
	if len(found.Inspect(eng).Containers) > 0 {
		c.event(id, "Resource is still in use")
		return nil
	}
	if err := eng.RemoveNetwork(found.ID); err != nil {
		msg := "Error response from daemon: " + dockercli.DaemonMsg(err)
		c.eventDetail(id, "Error", msg)
		return errors.New("failed to remove network " + n[1] + ": " + msg)
	}
	c.event(id, "Removed")
	return nil
}
