package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/runner/dockercli"
)

// Compose's ps, port, exec and logs act on the project's containers, found
// by their labels (pkg/compose/ps.go, port.go, exec.go, logs.go, v5.6.0).
// Compose v5.6.0 vendors the docker CLI of release 29, whose formats (the
// PORTS column) it prints whatever the docker CLI that runs it.

func ps(c *cmd, args []string) error {
	var format, filter string
	var status []string
	var quiet, services, all, noTrunc bool
	orphans := true
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.String(&format, "", "format")
	fs.String(&filter, "", "filter")
	fs.List(&status, "", "status")
	fs.Bool(&quiet, "q", "quiet")
	fs.Bool(&services, "", "services")
	fs.Bool(&orphans, "", "orphans")
	fs.Bool(&all, "a", "all")
	fs.Bool(&noTrunc, "", "no-trunc")
	names, err := c.parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	if filter != "" {
		key, val, ok := strings.Cut(filter, "=")
		switch {
		case !ok:
			return c.failf("arguments to --filter should be in form KEY=VAL")
		case key == "status":
			status = append(status, val)
		case key == "source":
			return c.failf("not implemented")
		default:
			return c.failf("unknown filter %s", key)
		}
	}
	p, name, err := c.projectOrName(names)
	if err != nil {
		return c.fail(err)
	}
	if p != nil {
		for _, s := range names {
			if _, ok := p.Services[s]; !ok {
				return c.failf("no such service: %s", s)
			}
		}
		if len(names) == 0 && !orphans {
			names = p.ServiceNames()
		}
	}
	eng, err := c.engine()
	if err != nil {
		return err
	}
	var rows []row
	now := c.now()
	for _, x := range projectContainers(eng, name) {
		r := rowOf(x, now, !noTrunc)
		if !all && len(status) == 0 && r.State != "running" {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, r.Service) || len(status) > 0 && !slices.Contains(status, r.State) {
			continue
		}
		rows = append(rows, r)
	}
	switch {
	case quiet:
		for _, r := range rows {
			fmt.Fprintln(c.stdout(), r.fullID) // untruncated, as Compose prints them
		}
		return nil
	case services:
		var seen []string
		for _, r := range rows {
			if !slices.Contains(seen, r.Service) {
				seen = append(seen, r.Service)
			}
		}
		fmt.Fprintln(c.stdout(), strings.Join(seen, "\n"))
		return nil
	}
	out, err := formatRows(rows, format)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprint(c.stdout(), out)
	return nil
}

// row is a container as docker compose ps shows it: the fields of its
// --format templates (cmd/formatter/container.go ContainerContext).
type row struct {
	ID, Name, Names, Image, Project, Service, Command string
	CreatedAt, RunningFor, Ports, State, Status       string
	Health, Labels, Networks, Mounts, Size            string
	LocalVolumes                                      string
	ExitCode                                          int
	Publishers                                        []publisher
	fullID                                            string
}

// publisher is one port of a container (api.PortPublisher).
type publisher struct {
	URL           string
	TargetPort    int
	PublishedPort int
	Protocol      string
}

// hostPort is where the port is published (PortPublisher.HostPort).
func (p publisher) hostPort() string {
	return net.JoinHostPort(p.URL, strconv.Itoa(p.PublishedPort))
}

func rowOf(x *netkit.Container, now time.Time, trunc bool) row {
	col := dockercli.Columns(x, now, release.Era29)
	l := x.Options().Labels
	r := row{
		ID: x.ID, Name: x.Name, Names: x.Name, Image: x.Options().Image, Project: l[labelProject], Service: l[labelService],
		Command: col.Command, CreatedAt: x.Created.Format("2006-01-02 15:04:05 -0700 MST"), RunningFor: col.RunningFor,
		Ports: col.Ports, State: col.State, Status: col.Status, Size: "0B", LocalVolumes: "0", Publishers: publishersOf(x),
		fullID: x.ID,
	}
	if trunc {
		r.ID = x.ID[:12]
		if n := []rune(r.Command); len(n) > 20 {
			r.Command = string(n[:19]) + "…"
		}
	}
	r.Command = strconv.Quote(r.Command)
	var kv, nets []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	r.Labels = strings.Join(kv, ",")
	for n := range x.Inspect().NetworkSettings.Networks {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	r.Networks = strings.Join(nets, ",")
	if col.State == "exited" {
		r.ExitCode = x.Inspect().State.ExitCode
	}
	return r
}

// publishersOf lists a container's ports as the engine's container list
// gives them, sorted by container port (containerPublishers): each
// binding, and each exposed port that has none.
func publishersOf(x *netkit.Container) []publisher {
	var out []publisher
	bound := map[string]bool{}
	for _, b := range x.Ports() {
		bound[b.Container.String()] = true
		out = append(out, publisher{URL: b.HostIP.String(), TargetPort: int(b.Container.Num),
			PublishedPort: int(b.HostPort), Protocol: string(b.Container.Proto)})
	}
	if x.State() == "running" {
		for _, p := range x.ExposedPorts() {
			if !bound[p.String()] {
				out = append(out, publisher{TargetPort: int(p.Num), Protocol: string(p.Proto)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TargetPort < out[j].TargetPort })
	return out
}

// psTable is Compose's default ps format.
const psTable = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"

var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Name": "NAME", "Names": "NAMES", "Project": "PROJECT", "Service": "SERVICE", "Image": "IMAGE",
	"Command": "COMMAND", "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE",
	"Status": "STATUS", "Size": "SIZE", "Labels": "LABELS", "Networks": "NETWORKS", "Mounts": "MOUNTS",
	"Health": "HEALTH", "ExitCode": "EXIT CODE", "LocalVolumes": "LOCAL VOLUMES",
}

// formatRows renders rows as the docker CLI's formatter does: a "table"
// format with its header and the CLI's tabwriter, json, or a template.
func formatRows(rows []row, format string) (string, error) {
	if format == "" || format == "table" {
		format = psTable
	}
	if format == "json" {
		var b strings.Builder
		for _, r := range rows {
			j, _ := json.Marshal(r)
			b.Write(j)
			b.WriteString("\n")
		}
		return b.String(), nil
	}
	table := strings.HasPrefix(format, "table ")
	format = strings.TrimPrefix(format, "table ")
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	t, err := template.New("").Parse(format + "\n")
	if err != nil {
		return "", fmt.Errorf("template parsing error: %w", err)
	}
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
	} = &buf
	tw := tabwriter.NewWriter(&buf, 10, 1, 3, ' ', 0)
	if table {
		w = tw
		h, err := template.New("").Parse(format + "\n")
		if err != nil {
			return "", err
		}
		if err := h.Execute(tw, psHeaders); err != nil {
			return "", err
		}
	}
	for _, r := range rows {
		if err := t.Execute(w, r); err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
	}
	tw.Flush()
	return buf.String(), nil
}

// specified is the container of a service a command acts on: its first
// running one, or the one --index names (getSpecifiedContainer).
func (c *cmd) specified(eng *netkit.Engine, project, service string, index int) (*netkit.Container, error) {
	var found []*netkit.Container
	for _, x := range projectContainers(eng, project) {
		l := x.Options().Labels
		if l[labelService] == service && x.State() == "running" && (index == 0 || l[labelNumber] == strconv.Itoa(index)) {
			found = append(found, x)
		}
	}
	if len(found) == 0 {
		if index > 0 {
			return nil, fmt.Errorf("service %q is not running container #%d", service, index)
		}
		return nil, fmt.Errorf("service %q is not running", service)
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, _ := strconv.Atoi(found[i].Options().Labels[labelNumber])
		b, _ := strconv.Atoi(found[j].Options().Labels[labelNumber])
		return a < b
	})
	return found[0], nil
}

func port(c *cmd, args []string) error {
	protocol, index := "tcp", ""
	fs := &dockercli.FlagSet{Interspersed: true}
	fs.String(&protocol, "", "protocol")
	fs.String(&index, "", "index")
	rest, err := c.parse(fs, args, 1, 2)
	if err != nil {
		return err
	}
	protocol = strings.ToLower(protocol)
	var want uint64
	if len(rest) > 1 {
		if want, err = strconv.ParseUint(rest[1], 10, 16); err != nil {
			return c.fail(err)
		}
	} else if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--protocol") }) {
		protocol = ""
	}
	n, err := strconv.Atoi(orZero(index))
	if err != nil {
		return c.failf("invalid argument %q for \"--index\" flag: %v", index, err)
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
	var pubs []publisher
	for _, p := range publishersOf(x) {
		if (protocol == "" || p.Protocol == protocol) && (want == 0 || p.TargetPort == int(want)) {
			pubs = append(pubs, p)
		}
	}
	if want != 0 {
		if len(pubs) == 0 {
			var all []string
			for _, p := range publishersOf(x) {
				all = append(all, fmt.Sprintf("%d/%s", p.TargetPort, p.Protocol))
			}
			return c.failf("no port %d/%s for container %s: %s", want, protocol, x.Name, strings.Join(all, ", "))
		}
		fmt.Fprintln(c.stdout(), pubs[0].hostPort())
		return nil
	}
	for _, p := range pubs {
		fmt.Fprintf(c.stdout(), "%d/%s -> %s\n", p.TargetPort, p.Protocol, p.hostPort())
	}
	return nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
