package images

import (
	"os"

	"github.com/labrun/labrun/netkit/initproc"
)

// ProgramShellEOF is busybox's sh as `docker run` without a COMMAND, -i or
// -t runs it: its input is closed and it has no terminal, so it reads end
// of file and exits 0 at once, and the container with it (Exited (0), as
// on Docker 28.5.2 and 29.8.1, and again at each docker start). With -i its
// input stays open, with -t it has a terminal: it waits for a command, as
// labrun's waiter does (Image.Program "").
const ProgramShellEOF = "sh-eof"

func init() { initproc.Register(ProgramShellEOF, runShellEOF) }

// runShellEOF reports readiness and exits 0.
func runShellEOF(_ []string, ready func()) error {
	ready()
	os.Exit(0)
	return nil
}

// Main returns the program that runs as the main process of a container
// of im run without a COMMAND, with its input open (-i) or a terminal
// (-t): the image's own, or for a shell's image (busybox) run with neither,
// ProgramShellEOF.
func (im Image) Main(stdinOpen, tty bool) string {
	if im.Program == "" && im.Comm == "sh" && !stdinOpen && !tty {
		return ProgramShellEOF
	}
	return im.Program
}
