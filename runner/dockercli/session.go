package dockercli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labrun/labrun/netkit"
)

// Session is what a user of the docker CLI keeps from one command line to
// the next: the lab whose engine the commands drive, and whether the last
// dockerd failed. A scenario keeps one for its whole script; the zero value
// has no lab, which is enough for command lines that fail before they need
// an engine (a wrong flag or argument count).
type Session struct {
	// Lab is the lab whose engine the commands drive. Dockerd, and any
	// docker command that reaches the engine, need it.
	Lab *netkit.Lab
	// engineDown is set when the last Dockerd failed: the engine is
	// stopped, and docker commands must not start a new one.
	engineDown bool
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
	if len(args) == 0 {
		return fmt.Errorf("docker: no subcommand: %w (%s)", ErrNotImplemented, subNames())
	}
	sub, n := lookupSub(args)
	if sub == nil {
		return fmt.Errorf("docker %s: %w (%s)", args[0], ErrNotImplemented, subNames())
	}
	d := &dockerCtx{s: s, ctx: ctx, o: o.orDiscard(), sub: sub, path: "docker " + strings.Join(args[:n], " ")}
	return sub.run(d, args[n:])
}

// subNames lists the subcommands, for ErrNotImplemented.
func subNames() string {
	var names []string
	for _, s := range dockerSubs {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// Dockerd (re)starts the lab's engine with dockerd's networking flags
// (args after "dockerd"), after those of $LABRUN_DOCKERD. A running engine
// stops first, as when dockerd restarts; when the new one fails, the engine
// stays stopped and docker commands find no daemon until a Dockerd
// succeeds. A bad flag or a refused combination prints dockerd's own
// message on o.Stderr and returns an *ExitError.
func (s *Session) Dockerd(args []string, o IO) error {
	o = o.orDiscard()
	opts, err := parseDockerd(args)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s\nSee 'dockerd --help'.\n", err)
		return &ExitError{Cmd: "dockerd", Code: 1}
	}
	_, err = s.Lab.StartEngine(opts)
	s.engineDown = err != nil && s.Lab.Engine() == nil
	if err != nil {
		fmt.Fprintf(o.Stderr, "failed to start daemon: %s\n", daemonMsg(err))
		return &ExitError{Cmd: "dockerd", Code: 1}
	}
	return nil
}

// engine returns the lab's engine, starting it with dockerd's defaults when
// the session has not started one (the first docker command does that).
// After a dockerd that failed, the engine stays stopped, as a docker CLI
// finds no daemon then, until a dockerd succeeds.
func (s *Session) engine() (*netkit.Engine, error) {
	if eng := s.Lab.Engine(); eng != nil {
		return eng, nil
	}
	if s.engineDown {
		return nil, errors.New("the engine is not running: the last dockerd failed")
	}
	o, err := parseDockerd(nil)
	if err != nil {
		return nil, fmt.Errorf("starting the engine with default flags: %s: %w", DockerdEnv, err)
	}
	eng, err := s.Lab.StartEngine(o)
	if err != nil {
		return nil, fmt.Errorf("starting the engine with default flags: %w", err)
	}
	return eng, nil
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
