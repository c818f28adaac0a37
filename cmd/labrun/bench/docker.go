package bench

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/proc"
)

// dockerImage is the image the docker method imports into each engine:
// busybox, exposing 80/tcp as the busybox image labrun runs does.
const dockerImage = "bench:1"

// dockerMax is the largest lab the docker method builds by default: a real
// engine takes some 0.3 to 0.5 s a container.
const dockerMax = 100

// dockerSkip says why the docker method cannot run on this machine, or ""
// when it can: it needs an engine of cfg.dockerVersion built by `make
// oracle`, the docker CLI, and busybox for the image.
func dockerSkip(cfg *config) string {
	if !slices.Contains(oracle.Available(""), cfg.dockerVersion) {
		return fmt.Sprintf("no Docker %s engine in %s (make oracle builds it)", cfg.dockerVersion, oracle.DefaultDir())
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return "no docker CLI on PATH"
	}
	if _, err := exec.LookPath("busybox"); err != nil {
		return "no busybox for the image (apt-get install busybox-static)"
	}
	return ""
}

// benchDocker builds the lab with a real Docker Engine (package oracle: a
// fresh engine for each N, in namespaces of its own, its busybox image
// imported; neither is timed): N `docker run -d --name dI -p 20000+I:80
// bench:1 busybox sleep 3600`, each a docker CLI process,
// cfg.upParallel at a time (as the labrun method's runs), then one `docker
// rm -f d0 d1 …` with every name (the CLI removes 50 at a time, as the
// labrun method does), until the kernel has removed every container's veth
// in the engine's namespace.
//
// Its CPU time is the engine's processes' (dockerd, containerd, the shims,
// docker-proxy, runc, the containers: user and system time, those that
// ended included) and the docker CLI's, up and down, not the engine's
// start; its PSS is the engine's processes' with the lab up.
//
// Equivalent to:
//
//	seq 0 N-1 | xargs -P UP -I{} docker run -d --name d{} -p $((20000+{})):80 bench:1 busybox sleep 3600
//	docker rm -f d0 d1 … dN-1
func benchDocker(cfg *config, n int) (res result) {
	e, err := oracle.Start(context.Background(), oracle.Options{Version: cfg.dockerVersion})
	if err != nil {
		res.err = err
		return res
	}
	defer e.Close()
	if err := oracle.Import(e.Docker, dockerImage, "EXPOSE 80/tcp"); err != nil {
		res.err = err
		return res
	}
	ns, err := netns.OpenPID(e.PID())
	if err != nil {
		res.err = fmt.Errorf("opening the engine's namespace: %w", err)
		return res
	}
	defer ns.Close()
	h, err := link.OpenHandle(ns)
	if err != nil {
		res.err = fmt.Errorf("opening netlink in the engine's namespace: %w", err)
		return res
	}
	defer h.Close()
	veths := func() (int, error) { return countVeths(h) }
	before, err := veths() // the engine host's own eth0
	if err != nil {
		res.err = err
		return res
	}
	name := func(i int) string { return fmt.Sprintf("d%d", i) }

	cli0, tree0 := cpuTime(), treeCPU(e.PID())
	t0 := time.Now()
	err = forEach(n, cfg.upParallel, func(i int) error {
		return dockerCLI(e, "run", "-d", "--name", name(i), "-p", fmt.Sprintf("%d:80", basePort+i), dockerImage, "busybox", "sleep", "3600")
	})
	res.up = time.Since(t0)
	if err != nil {
		res.err = err
		return res
	}
	res.pss, res.procs = sumPSS(proc.Descendants([]int{e.PID()}))

	t1 := time.Now()
	names := make([]string, n)
	for i := range names {
		names[i] = name(i)
	}
	err = dockerCLI(e, append([]string{"rm", "-f"}, names...)...)
	if err == nil {
		err = waitVeths(veths, before, 2*time.Minute)
	}
	res.down = time.Since(t1)
	res.cpu = cpuTime() - cli0 + treeCPU(e.PID()) - tree0
	if err != nil {
		res.err = err
	}
	return res
}

// dockerCLI runs the docker CLI against e.
//
// Equivalent to: DOCKER_HOST=unix://SOCKET docker ARGS
func dockerCLI(e *oracle.Engine, args ...string) error {
	out, err := e.Docker(args...).CombinedOutput()
	if err != nil {
		cmd := strings.Join(args, " ")
		if len(cmd) > 60 {
			cmd = cmd[:60] + "…"
		}
		return fmt.Errorf("docker %s: %w: %s", cmd, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// treeCPU is the CPU time (user and system) that process pid and its
// descendants have used so far, with the children each of them waited for:
// the difference of two readings is what the tree used in between, the
// processes that ended meanwhile included (their times are in their
// parent's CUTime and CSTime once it reaped them).
func treeCPU(pid int) time.Duration {
	var ticks uint64
	for _, p := range proc.Descendants([]int{pid}) {
		if s, err := proc.ReadStat(p); err == nil {
			ticks += s.UTime + s.STime + s.CUTime + s.CSTime
		}
	}
	return proc.Ticks(ticks)
}
