package fidelity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner"
)

// Labrun is one case's labrun side: a fresh lab whose engine was started
// with --compat set to the real engine's version.
type Labrun struct {
	lab     *netkit.Lab
	env     []string
	shared  bool
	backend oracle.Backend
}

// LabrunOptions say how NewLabrun starts the lab and its engine, to match
// the real engine's host. The zero value is a fresh Docker host that does
// not forward, compared as a whole.
type LabrunOptions struct {
	// Versions are the real engine's and CLI's.
	Versions Versions
	// Daemon are more dockerd flags; Backend its --firewall-backend.
	Daemon  []string
	Backend oracle.Backend
	// IPForward: the host forwards IPv4 before the engine starts.
	IPForward bool
	// Shared: the real engine's host is shared with others (the
	// machine's), so only the case's rules are compared.
	Shared bool
	// Host are shell lines run on the host before the engine starts.
	Host []string
}

// NewLabrun makes a lab and starts its engine as dockerd --compat=VERSION,
// the docker command emulating the CLI of the client version.
func NewLabrun(name string, o LabrunOptions) (*Labrun, error) {
	lab, err := netkit.NewLab(netkit.LabOptions{Name: name, HostIPForwardOff: !o.IPForward})
	if err != nil {
		return nil, err
	}
	v := o.Versions
	l := &Labrun{lab: lab, env: []string{"PATH=" + os.Getenv("PATH"), "DOCKER_CLI_VERSION=" + v.Client},
		shared: o.Shared, backend: o.Backend}
	for _, line := range o.Host {
		if out, err := lab.Host().Output("sh", "-c", line); err != nil {
			lab.Close()
			return nil, fmt.Errorf("host: %s: %v: %s", line, err, out)
		}
	}
	args := []string{"dockerd", "--compat=" + v.Server}
	if v.MTU != "" && v.MTU != "1500" {
		args = append(args, "--mtu="+v.MTU)
	}
	if o.Backend != "" && o.Backend != oracle.IPTables {
		args = append(args, "--firewall-backend="+string(o.Backend))
	}
	args = append(args, o.Daemon...)
	var stderr bytes.Buffer
	if err := runner.Exec(context.Background(), lab, runner.ExecOptions{Env: l.env, Stderr: &stderr}, args); err != nil {
		lab.Close()
		return nil, fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return l, nil
}

// Close closes the lab.
func (l *Labrun) Close() error { return l.lab.Close() }

func (l *Labrun) docker(args ...string) result { return l.dockerEnv(nil, args...) }

func (l *Labrun) dockerEnv(env []string, args ...string) result {
	var out, errb bytes.Buffer
	o := runner.ExecOptions{Env: append(append([]string{}, l.env...), env...), Stdout: &out, Stderr: &errb}
	err := runner.Exec(context.Background(), l.lab, o, append([]string{"docker"}, args...))
	return result{stdout: out.String(), stderr: errb.String(), code: runner.ExitStatus(err)}
}

// serverAPI is the lab engine's API version (labrun has no docker
// version).
func (l *Labrun) serverAPI() string {
	if eng := l.lab.Engine(); eng != nil {
		return eng.APIVersion()
	}
	return ""
}

func (l *Labrun) rules(c scope) string {
	l.settle()
	if l.shared {
		out, err := l.lab.Host().Output("iptables-save")
		if err != nil {
			return "iptables-save: " + err.Error()
		}
		return filterRules(string(out), c.bridges, c.subnets, c.addrs)
	}
	return hostRules(l.backend, l.lab.Host().Output)
}

func (l *Labrun) portRange() (int, int) {
	out, err := l.lab.Host().Output("cat", "/proc/sys/net/ipv4/ip_local_port_range")
	return readRange(out, err)
}

func (l *Labrun) host(line string) string {
	l.settle()
	return hostOutput(l.lab.Host().Output("sh", "-c", line))
}

// settle waits for the engine's background work, as the runner's `on`
// does, so that the host shows all of its rules.
func (l *Labrun) settle() {
	if eng := l.lab.Engine(); eng != nil {
		eng.Settle()
	}
}
