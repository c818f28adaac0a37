package dockercli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/labrun/labrun/netkit/release"
)

// This file renders docker's output as pure functions of the engine's data:
// the tables of docker ps, images, network ls and top, the PORTS column,
// docker port's lines, and docker inspect's JSON and templates. Where the
// docker CLI's releases differ, the functions take the CLI's era (a
// release.Era, cli_era.go); hostPort is the one place where it shows in
// tables.

// newTable returns a tabwriter with the docker CLI's table settings
// (formatter.Context: min width 10, padding 3, spaces).
func newTable(buf *bytes.Buffer) *tabwriter.Writer {
	return tabwriter.NewWriter(buf, 10, 1, 3, ' ', 0)
}

// humanDuration renders d as the docker CLI does (go-units HumanDuration),
// for "Up 2 seconds" and "3 minutes ago".
func humanDuration(d time.Duration) string {
	if seconds := int(d.Seconds()); seconds < 1 {
		return "Less than a second"
	} else if seconds == 1 {
		return "1 second"
	} else if seconds < 60 {
		return fmt.Sprintf("%d seconds", seconds)
	} else if minutes := int(d.Minutes()); minutes == 1 {
		return "About a minute"
	} else if minutes < 60 {
		return fmt.Sprintf("%d minutes", minutes)
	} else if hours := int(d.Round(time.Hour).Hours()); hours == 1 {
		return "About an hour"
	} else if hours < 48 {
		return fmt.Sprintf("%d hours", hours)
	} else if hours < 24*7*2 {
		return fmt.Sprintf("%d days", hours/24)
	} else if hours < 24*30*2 {
		return fmt.Sprintf("%d weeks", hours/24/7)
	} else if hours < 24*365*2 {
		return fmt.Sprintf("%d months", hours/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// ellipsis shortens s to width runes, the last one "…", as the CLI's
// formatter.Ellipsis does for COMMAND.
func ellipsis(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// psPort is one entry of a container's ports as the engine API lists them:
// a published binding (IP set) or an exposed port (IP empty).
type psPort struct {
	IP          string
	PrivatePort uint16
	PublicPort  uint16
	Type        string
}

// formatPorts renders the PORTS column as the docker CLI does
// (formatter.DisplayablePorts): ports sorted by container port, address,
// host port and protocol; runs of consecutive ports that are published on
// the same number (or only exposed) collapsed into ranges
// ("0.0.0.0:8000-8002->8000-8002/tcp", "7000-7002/tcp"); bindings to another
// host port listed one by one after them ("0.0.0.0:801->80/tcp").
func formatPorts(ports []psPort, cli release.Era) string {
	ps := append([]psPort(nil), ports...)
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.PrivatePort != b.PrivatePort {
			return a.PrivatePort < b.PrivatePort
		}
		if a.IP != b.IP {
			return a.IP < b.IP
		}
		if a.PublicPort != b.PublicPort {
			return a.PublicPort < b.PublicPort
		}
		return a.Type < b.Type
	})
	type group struct{ first, last uint16 }
	groups := map[string]*group{}
	var keys, result, mappings []string
	for _, p := range ps {
		key := p.Type
		if p.IP != "" {
			if p.PublicPort != p.PrivatePort {
				mappings = append(mappings, fmt.Sprintf("%s->%d/%s", hostPort(cli, p.IP, strconv.Itoa(int(p.PublicPort))), p.PrivatePort, p.Type))
				continue
			}
			key = p.IP + "/" + p.Type
		}
		g := groups[key]
		switch {
		case g == nil:
			groups[key] = &group{p.PrivatePort, p.PrivatePort}
			keys = append(keys, key)
		case p.PrivatePort == g.last+1:
			g.last = p.PrivatePort
		default:
			result = append(result, formGroup(key, g.first, g.last, cli))
			groups[key] = &group{p.PrivatePort, p.PrivatePort}
		}
	}
	for _, k := range keys {
		g := groups[k]
		result = append(result, formGroup(k, g.first, g.last, cli))
	}
	return strings.Join(append(result, mappings...), ", ")
}

// formGroup renders one collapsed run of formatPorts; key is "PROTO" or
// "IP/PROTO". An IPv6 address has no "/" in it, so the split is safe.
func formGroup(key string, first, last uint16, cli release.Era) string {
	ip, typ, hasIP := strings.Cut(key, "/")
	if !hasIP {
		ip, typ = "", key
	}
	g := strconv.Itoa(int(first))
	if first != last {
		g += "-" + strconv.Itoa(int(last))
	}
	if ip != "" {
		g = hostPort(cli, ip, g) + "->" + g
	}
	return g + "/" + typ
}

// psRow is one container as docker ps shows it.
type psRow struct {
	ID      string
	Image   string
	Command string // unquoted
	Created time.Time
	// State is created, running or exited.
	State      string
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	Ports      []psPort
	Name       string
	Networks   []string
}

// status renders the STATUS column as the engine does.
func (r psRow) status(now time.Time) string {
	switch r.State {
	case "running":
		return "Up " + humanDuration(now.Sub(r.StartedAt))
	case "exited":
		return fmt.Sprintf("Exited (%d) %s ago", r.ExitCode, humanDuration(now.Sub(r.FinishedAt)))
	case "created":
		return "Created"
	}
	return r.State
}

// psContext is what a docker ps --format template sees, as the CLI's
// ContainerContext: {{.ID}}, {{.Names}}, {{.Ports}} and so on.
type psContext struct {
	r     psRow
	trunc bool
	now   time.Time
	cli   release.Era
}

func (c psContext) ID() string {
	if c.trunc {
		return c.r.ID[:12]
	}
	return c.r.ID
}
func (c psContext) Image() string { return c.r.Image }
func (c psContext) Command() string {
	cmd := c.r.Command
	if c.trunc {
		cmd = ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}
func (c psContext) CreatedAt() string { return c.r.Created.Format("2006-01-02 15:04:05 -0700 MST") }
func (c psContext) RunningFor() string {
	return humanDuration(c.now.Sub(c.r.Created)) + " ago"
}
func (c psContext) Ports() string    { return formatPorts(c.r.Ports, c.cli) }
func (c psContext) State() string    { return c.r.State }
func (c psContext) Status() string   { return c.r.status(c.now) }
func (c psContext) Names() string    { return c.r.Name }
func (c psContext) Networks() string { return strings.Join(c.r.Networks, ",") }
func (c psContext) Labels() string   { return "" }
func (c psContext) Mounts() string   { return "" }
func (c psContext) Size() string     { return "0B" }

var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
	"Names": "NAMES", "Networks": "NETWORKS", "Labels": "LABELS", "Mounts": "MOUNTS", "Size": "SIZE",
}

const defaultPsFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

// formatPs renders docker ps: the default table, -q, or a --format
// template ("table ..." for a table with headers).
func formatPs(rows []psRow, format string, quiet, trunc bool, now time.Time, cli release.Era) (string, error) {
	if quiet && (format == "" || format == "table") {
		format = "{{.ID}}"
	}
	if format == "" || format == "table" {
		format = defaultPsFormat
	}
	var ctxs []any
	for _, r := range rows {
		ctxs = append(ctxs, psContext{r: r, trunc: trunc, now: now, cli: cli})
	}
	return renderFormat(format, psHeaders, ctxs)
}

// renderFormat executes a docker CLI format over rows: a "table ..."
// format prints the header line, then the rows, aligned by the CLI's
// tabwriter; any other format prints one line per row. As in the CLI, the
// two-character sequences \t and \n in the format are a tab and a newline.
func renderFormat(format string, headers map[string]string, rows []any) (string, error) {
	table := false
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		table, format = true, rest
	}
	format = strings.Trim(format, " ")
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	tmpl, err := parseTemplate(format)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	for _, r := range rows {
		if err := tmpl.Execute(&buf, r); err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
		buf.WriteByte('\n')
	}
	if !table {
		return buf.String(), nil
	}
	var out bytes.Buffer
	tw := newTable(&out)
	var head bytes.Buffer
	if err := tmpl.Execute(&head, headers); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	tw.Write(head.Bytes())
	tw.Write([]byte{'\n'})
	tw.Write(buf.Bytes())
	tw.Flush()
	return out.String(), nil
}

// templateFuncs are the docker CLI's template functions
// (github.com/docker/cli/templates), on top of text/template's own (index,
// len, printf, range...).
var templateFuncs = template.FuncMap{
	"json": func(v any) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		return strings.TrimSpace(buf.String())
	},
	"split": strings.Split,
	"join":  strings.Join,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		r, n := utf8.DecodeRuneInString(s)
		return strings.ToUpper(string(r)) + s[n:]
	},
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"pad": func(s string, before, after int) string {
		return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
	},
	"truncate": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n]
	},
}

func parseTemplate(format string) (*template.Template, error) {
	return template.New("").Funcs(templateFuncs).Parse(format)
}

// portLines renders docker port for one container: "80/tcp -> 0.0.0.0:801"
// per binding, or only "0.0.0.0:801" when a port was asked for; sorted in
// natural order as the CLI does. ports maps "80/tcp" to its bindings
// (HostIp, HostPort), as NetworkSettings.Ports.
func portLines(ports map[string][][2]string, only string) []string {
	var out []string
	if only != "" {
		for _, b := range ports[only] {
			out = append(out, net.JoinHostPort(b[0], b[1]))
		}
	} else {
		for from, bs := range ports {
			for _, b := range bs {
				out = append(out, from+" -> "+net.JoinHostPort(b[0], b[1]))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out
}

// naturalLess orders strings with their digit runs compared as numbers
// ("80/tcp" before "443/tcp"), the order of the CLI's sortorder.NaturalLess:
// digits sort before other characters, and between equal numbers the one
// with fewer leading zeros comes first.
func naturalLess(a, b string) bool {
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		da, db := isDigit(ca), isDigit(cb)
		switch {
		case da != db:
			return da
		case !da:
			if ca != cb {
				return ca < cb
			}
			i++
			j++
		default:
			for i < len(a) && a[i] == '0' {
				i++
			}
			for j < len(b) && b[j] == '0' {
				j++
			}
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			if li, lj := i-si, j-sj; li != lj {
				return li < lj
			}
			if na, nb := a[si:i], b[sj:j]; na != nb {
				return na < nb
			}
			if si != sj {
				return si < sj
			}
		}
	}
	return len(a)-i < len(b)-j
}

// imageRow is one image as docker images shows it.
type imageRow struct {
	Repository, Tag, ID, Size string
	Created                   time.Time
}

// formatImages renders docker images' default table (or IDs with quiet).
func formatImages(rows []imageRow, quiet bool, now time.Time) string {
	var out bytes.Buffer
	if quiet {
		for _, r := range rows {
			fmt.Fprintln(&out, r.ID)
		}
		return out.String()
	}
	tw := newTable(&out)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\n", r.Repository, r.Tag, r.ID, humanDuration(now.Sub(r.Created)), r.Size)
	}
	tw.Flush()
	return out.String()
}

// networkRow is one network as docker network ls shows it.
type networkRow struct{ ID, Name, Driver, Scope string }

// formatNetworks renders docker network ls: sorted by name in natural
// order, IDs cut to 12 digits unless noTrunc, or only IDs with quiet.
func formatNetworks(rows []networkRow, quiet, noTrunc bool) string {
	rs := append([]networkRow(nil), rows...)
	sort.SliceStable(rs, func(i, j int) bool { return naturalLess(rs[i].Name, rs[j].Name) })
	var out bytes.Buffer
	id := func(s string) string {
		if noTrunc || len(s) < 12 {
			return s
		}
		return s[:12]
	}
	if quiet {
		for _, r := range rs {
			fmt.Fprintln(&out, id(r.ID))
		}
		return out.String()
	}
	tw := newTable(&out)
	fmt.Fprintln(tw, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id(r.ID), r.Name, r.Driver, r.Scope)
	}
	tw.Flush()
	return out.String()
}

// formatTop renders docker top: the titles and rows of ps -ef, aligned as
// the CLI does (tabwriter with min width 20).
func formatTop(titles []string, procs [][]string) string {
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(titles, "\t"))
	for _, p := range procs {
		fmt.Fprintln(tw, strings.Join(p, "\t"))
	}
	tw.Flush()
	return out.String()
}

// inspectJSON renders docker inspect's default output: the objects as one
// JSON array indented by 4 spaces ("[]" for none), as the CLI's
// IndentedInspector does with the engine's raw JSON.
func inspectJSON(objs []any) (string, error) {
	compact, err := inspectCompact(objs)
	if err != nil {
		return "", err
	}
	// Indent keeps the final newline.
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(compact), "", "    "); err != nil {
		return "", err
	}
	return out.String(), nil
}

// inspectTemplate renders docker inspect -f: the template once per object,
// each followed by a newline. Like the CLI, it first runs the template on
// the typed object and, when that fails, on the object's JSON decoded into
// maps, so that {{.State.Pid}} and {{index .Config.ExposedPorts "80/tcp"}}
// both work.
func inspectTemplate(format string, objs []any) (string, error) {
	tmpl, err := parseTemplate(format)
	if err != nil {
		return "", fmt.Errorf("template parsing error: %w", err)
	}
	var out bytes.Buffer
	for _, o := range objs {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, o); err != nil {
			raw, merr := json.Marshal(o)
			if merr != nil {
				return "", merr
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var m any
			if err := dec.Decode(&m); err != nil {
				return "", fmt.Errorf("unable to read inspect data: %w", err)
			}
			buf.Reset()
			if err := tmpl.Option("missingkey=error").Execute(&buf, m); err != nil {
				return "", fmt.Errorf("template parsing error: %w", err)
			}
		}
		out.Write(buf.Bytes())
		out.WriteByte('\n')
	}
	return out.String(), nil
}

// inspectCompact renders docker inspect --format json: the objects as one
// compact JSON array, as the CLI's JSONInspector does.
func inspectCompact(objs []any) (string, error) {
	if len(objs) == 0 {
		return "[]\n", nil
	}
	raw, err := json.Marshal(objs)
	if err != nil {
		return "", err
	}
	return string(raw) + "\n", nil
}
