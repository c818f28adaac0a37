package images

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/labrun/labrun/netkit/initproc"
)

// runWebSSH is the web-ssh program: the article's image with ssh, http and
// https. The main process is sshd; HTTP and HTTPS are served by a child
// process named httpd, so that `pgrep sshd` and `pgrep httpd` both find a
// process, as in the real image.
func runWebSSH(args []string, ready func()) error {
	fs := flag.NewFlagSet(ProgramWebSSH, flag.ContinueOnError)
	sshPort := fs.Int("ssh-port", 22, "SSH `port`")
	httpPort := fs.Int("http-port", 80, "HTTP `port`")
	httpsPort := fs.Int("https-port", 443, "HTTPS `port`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	srv, ln, err := listenSSH(*sshPort)
	if err != nil {
		return err
	}
	httpd, err := startChild(initproc.Config{
		Mode:    initproc.ModeInit,
		Program: ProgramHTTPD,
		Comm:    "httpd",
		Args:    []string{"-port", strconv.Itoa(*httpPort), "-tls-port", strconv.Itoa(*httpsPort)},
	})
	if err != nil {
		ln.Close()
		return err
	}
	ready()
	go func() {
		// Nothing restarts it; say so in the container's log.
		err := httpd.Wait()
		fmt.Fprintf(os.Stderr, "web-ssh: httpd exited: %v\n", err)
	}()
	return srv.serve(ln)
}

// startChild re-executes this binary as another initproc program in the
// same namespaces, and returns once the child reported readiness. The child
// is killed when this process dies.
func startChild(cfg initproc.Config) (*exec.Cmd, error) {
	cmd, err := initproc.Command(cfg)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("making readiness pipe: %w", err)
	}
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w} // fd 3, where initproc reports 'R'
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Program, err)
	}
	// The read ends with EOF if the child dies first: this process holds
	// no other copy of the write end.
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil || b[0] != 'R' {
		cmd.Process.Kill()
		werr := cmd.Wait()
		if werr == nil {
			werr = errors.New("exited without reporting readiness")
		}
		return nil, fmt.Errorf("%s did not become ready: %w", cfg.Program, werr)
	}
	return cmd, nil
}
