package dockercli

import (
	"context"
	"time"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// The docker CLI runs a command it does not have itself, such as `docker
// compose`, as a plugin: a program of its own that speaks to the same
// engine (docker/cli cli-plugins/manager). A Session does the same with
// Plugins, whose functions drive the session's engine through what this
// file exports: the engine, and the containers that dockercli keeps the
// logs and consoles of, as docker run's are kept.

// Plugin runs a docker CLI plugin's command line (args after the
// plugin's name: ["up", "-d"] for `docker compose up -d`). It prints what
// the plugin prints; a failure is an *ExitError after its message on
// o.Stderr, or another error, which the caller prints.
type Plugin func(ctx context.Context, s *Session, args []string, o IO) error

// Engine returns the engine of the Docker host the plugin's command line
// picked (docker -H NODE compose ...; the default host without), starting
// it with dockerd's defaults when the session has not started one, as the
// first docker command does.
func (s *Session) Engine() (*netkit.Engine, error) { return s.engine(s.pluginNode) }

// ContainerSpec is a container as a plugin asks the engine API to create
// it: netkit's options, and what the engine's container config adds to
// them, the command that stands for the main process and its terminal.
type ContainerSpec struct {
	netkit.RunOptions
	// Cmd, when set, runs in place of the image's program at every start
	// (RunOptions.Program is then ""), and the container stops when it
	// ends, with its status; Env is its environment beyond the image's.
	Cmd, Env []string
	// Tty and OpenStdin are Config.Tty and Config.OpenStdin.
	Tty, OpenStdin bool
}

// Create creates a container from spec, keeping its logs (docker logs)
// and its command as docker run keeps them.
func (s *Session) Create(spec ContainerSpec) (*netkit.Container, error) {
	eng, err := s.engine(s.pluginNode)
	if err != nil {
		return nil, err
	}
	b := &box{out: newFanout(newLog()), tty: spec.Tty, stdin: spec.OpenStdin, argv: spec.Cmd, env: spec.Env}
	o := spec.RunOptions
	o.Stdout, o.Stderr = logWriter{b, false}, logWriter{b, true}
	return eng.Create(o)
}

// RunCmd starts the command a started container runs in place of its
// image's program (ContainerSpec.Cmd), as the engine does at every start;
// it does nothing for a container without one, or not running.
func (s *Session) RunCmd(ctx context.Context, c *netkit.Container, o IO) error {
	d := &dockerCtx{s: s, ctx: ctx, o: o.orDiscard(), path: "docker start"}
	return d.restartConsole(c)
}

// PsColumns are the columns of docker ps that a plugin prints of a
// container (docker compose ps's), as the docker CLI of era cli
// formats them at time now.
type PsColumns struct {
	// Command is the container's command, untruncated and unquoted.
	Command string
	// RunningFor is the CREATED column ("2 seconds ago"), Status the
	// STATUS column ("Up 2 seconds"), Ports the PORTS column.
	RunningFor, Status, Ports string
	// State is created, running or exited.
	State string
}

// Columns returns c's docker ps columns.
func Columns(c *netkit.Container, now time.Time, cli release.Era) PsColumns {
	r := psRowOf(c)
	return PsColumns{Command: r.Command, RunningFor: humanDuration(now.Sub(r.Created)) + " ago",
		Status: r.status(now), Ports: formatPorts(r.Ports, cli), State: r.State}
}
