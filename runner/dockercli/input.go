package dockercli

import (
	"io"

	"github.com/moby/term"
)

// Input is the caller's standard input as the docker CLI sees it (docker/cli
// cli/streams/in.go, v28.5.2): what docker run -i, exec -i and attach
// connect to a container's process, and whether it is a terminal. A live
// lab's keeper implements it over its socket, for the terminal of the
// shell that typed the command.
type Input interface {
	// Read reads what the caller types or pipes; io.EOF at its end.
	io.Reader
	// IsTerminal reports whether the input is a terminal.
	IsTerminal() bool
	// SetRaw puts the terminal in raw mode, as the CLI does while it is
	// attached to a container's terminal, and returns what restores it.
	SetRaw() (restore func())
	// Size is the terminal's size; Resized receives when it changes.
	Size() (rows, cols uint16)
	Resized() <-chan struct{}
}

// checkTty refuses to attach a container's terminal to an input that is
// not one, as the CLI's In.CheckTty does (docker/cli cli/streams/in.go,
// v20.10.24 to v29.0.0: the same text), before anything is created.
func (d *dockerCtx) checkTty(attachStdin, tty bool) error {
	if tty && attachStdin && (d.o.Stdin == nil || !d.o.Stdin.IsTerminal()) {
		return d.fail(1, "the input device is not a TTY")
	}
	return nil
}

// detachKeys are the keys that detach from a container's terminal: keys
// (--detach-keys, in moby/term's ToBytes form, "ctrl-p,ctrl-q"), or Docker's
// default, ctrl-p ctrl-q, when keys is empty or not a valid sequence (as the
// CLI's hijackedIOStreamer.setupInput falls back, docker/cli
// cli/command/container/hijack.go, v28.5.2).
func detachKeys(keys string) []byte {
	if keys != "" {
		if b, err := term.ToBytes(keys); err == nil && len(b) > 0 {
			return b
		}
	}
	return []byte{16, 17}
}
