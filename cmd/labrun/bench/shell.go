package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proc"
)

// benchShell builds the lab with the commands a networking course shows:
// per container, seven ip commands (a named namespace, a veth pair, the
// bridge port, the address, the route) and Docker's three per-port rules,
// one iptables process each; per container removed, the three rules
// deleted and the namespace dropped with ip netns del.
//
// The script runs in one sh started inside a scratch host namespace (that
// already has docker0 and Docker's chains, as a fresh dockerd would) and
// inside a mount namespace of its own, on a private tmpfs at /run/netns:
// the namespaces that ip netns add names are bind mounts there, so none of
// them is visible outside the script, they all carry this run's prefix,
// the script deletes them when it exits (trap), and they vanish with its
// mount namespace even if it is killed.
func benchShell(cfg *config, n int) (res result) {
	host, err := newScratchHost()
	if err != nil {
		res.err = err
		return res
	}
	defer host.close()
	if err := host.dockerBridge(); err != nil {
		res.err = err
		return res
	}
	prefix := "lb" + runID()
	sh, err := startShell(host.ns, prefix)
	if err != nil {
		res.err = err
		return res
	}
	defer sh.close()

	t0 := time.Now()
	if err := sh.run(upScript(prefix, n), "up"); err != nil {
		res.err = err
		return res
	}
	res.up = time.Since(t0)

	t1 := time.Now()
	if err := sh.run(downScript(prefix, n), "down"); err != nil {
		res.err = err
		return res
	}
	if err := waitVeths(host.veths, 0, 2*time.Minute); err != nil {
		res.err = err
		return res
	}
	res.down = time.Since(t1)
	return res
}

// shellNames are container i's namespace and host-side veth names.
func shellNames(prefix string, i int) (nsName, veth string) {
	return fmt.Sprintf("%sc%d", prefix, i), fmt.Sprintf("%sv%d", prefix, i)
}

// upScript is the course's script for containers 0..n-1.
func upScript(prefix string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		ns, veth := shellNames(prefix, i)
		a := ctrAddr(i)
		fmt.Fprintf(&b, "ip netns add %s\n", ns)
		fmt.Fprintf(&b, "ip link add %s type veth peer name eth0 netns %s\n", veth, ns)
		fmt.Fprintf(&b, "ip link set %s master %s\n", veth, bridgeName)
		fmt.Fprintf(&b, "ip link set %s up\n", veth)
		fmt.Fprintf(&b, "ip -n %s addr add %s/%d dev eth0\n", ns, a, subnet.Bits())
		fmt.Fprintf(&b, "ip -n %s link set eth0 up\n", ns)
		fmt.Fprintf(&b, "ip -n %s route add default via %s\n", ns, gateway.Addr())
		// Docker's per-port rules, one iptables process each.
		for _, o := range (firewall.Config{}).AddBindings(network, ctrAddr(i), binding(i)) {
			b.WriteString(o.String() + "\n")
		}
	}
	return b.String()
}

// downScript removes what upScript made.
func downScript(prefix string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		ns, _ := shellNames(prefix, i)
		for _, o := range (firewall.Config{}).RemoveBindings(network, ctrAddr(i), binding(i)) {
			b.WriteString(o.String() + "\n")
		}
		fmt.Fprintf(&b, "ip netns del %s\n", ns)
	}
	return b.String()
}

// binding is container i's published port: basePort+i to its port 80/tcp.
func binding(i int) ports.Binding {
	return ports.Binding{Container: ports.Port{Num: 80, Proto: ports.TCP}, HostPort: uint16(basePort + i)}
}

// shell is a running sh that reads commands from a pipe.
type shell struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *strings.Builder
	waited bool
}

// startShell starts sh in ns, in a private mount namespace on a private
// /run/netns, with a trap that deletes the run's namespaces.
func startShell(ns *netns.NS, prefix string) (*shell, error) {
	cmd := exec.Command("sh", "-s")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &proc.HeadWriter{W: &stderr, N: 8192}
	if err := ns.Start(cmd, netns.StartOptions{NewMount: true}); err != nil {
		return nil, fmt.Errorf("starting sh in the scratch host: %w", err)
	}
	s := &shell{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), stderr: &stderr}
	preamble := fmt.Sprintf(`set -e
mount --make-rprivate /
if [ -d /run/netns ]; then
	mount -t tmpfs -o mode=0755,size=16m labrun-bench /run/netns
else
	mount -t tmpfs -o mode=0755,size=16m labrun-bench /run
	mkdir /run/netns
fi
cleanup() {
	for f in /run/netns/%[1]s*; do
		[ -e "$f" ] && ip netns del "${f##*/}" 2>/dev/null || true
	done
}
trap cleanup EXIT
`, prefix)
	if err := s.run(preamble, "setup"); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// run feeds script to the shell and waits until it has run all of it.
func (s *shell) run(script, phase string) error {
	marker := "labrun-bench-done-" + phase
	errc := make(chan error, 1)
	go func() {
		_, err := io.WriteString(s.stdin, script+"echo "+marker+"\n")
		errc <- err
	}()
	for {
		line, err := s.out.ReadString('\n')
		if strings.TrimSpace(line) == marker {
			break
		}
		if err != nil {
			s.wait()
			return fmt.Errorf("shell script (%s) failed: %s", phase, strings.TrimSpace(s.stderr.String()))
		}
	}
	return <-errc
}

// close ends the shell: its trap deletes what is left of its namespaces.
func (s *shell) close() { s.wait() }

// wait closes the shell's input and waits for it to exit (and for its
// output to be copied), killing it after a minute.
func (s *shell) wait() {
	if s.waited {
		return
	}
	s.waited = true
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-done
	}
}
