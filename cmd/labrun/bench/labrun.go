package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
)

// labStartStats summarises the timings of fresh labs.
type labStartStats struct {
	n                int
	min, median, max time.Duration
}

// labStarts holds the two lab start figures: labs made one right after the
// other closed, while the kernel still tears the last one down (as
// `labrun scenarios/` makes them), and labs made once it is done.
type labStarts struct {
	backToBack, settled labStartStats
	settle              time.Duration
}

// timeLabStarts times n fresh labs back to back, then n more each made
// settle after the last one closed (the pause is not timed: the kernel
// removes a closed lab's namespaces in the background, under the locks a
// new lab needs).
func timeLabStarts(n int, settle time.Duration) (labStarts, error) {
	b2b, err := timeLabSeries(n, 0)
	if err != nil {
		return labStarts{}, err
	}
	s, err := timeLabSeries(n, settle)
	return labStarts{backToBack: b2b, settled: s, settle: settle}, err
}

// timeLabSeries times n fresh labs: the four-node world and an engine with
// docker0 and Docker's chains, ready for docker run, waiting pause after
// each one is closed.
//
// Equivalent to: labrun's lab-up of a scenario.
func timeLabSeries(n int, pause time.Duration) (labStartStats, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		time.Sleep(pause)
		t0 := time.Now()
		lab, err := netkit.NewLab(netkit.LabOptions{Name: "bench"})
		if err != nil {
			return labStartStats{}, err
		}
		_, err = lab.StartEngine(netkit.DaemonOptions{})
		d := time.Since(t0)
		lab.Close()
		if err != nil {
			return labStartStats{}, err
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return labStartStats{}, nil
	}
	slices.Sort(ds)
	return labStartStats{n: len(ds), min: ds[0], median: ds[len(ds)/2], max: ds[len(ds)-1]}, nil
}

// benchLabrun builds the lab with labrun's engine: a fresh lab, then N
// containers started as `docker run` starts them (engine.Run with the
// parsed -p), cfg.upParallel at a time, then removed as `docker rm -f`
// removes them, cfg.downParallel at a time (the docker CLI removes the
// containers it is given 50 at a time).
//
// Equivalent to:
//
//	seq 0 N-1 | xargs -P UP -I{} sh -c 'docker run -d --name b{} -p $((20000+{})):80 busybox sleep infinity'
//	docker rm -f b0 b1 … bN-1
func benchLabrun(cfg *config, n int) (res result) {
	runtime.GC()
	debug.FreeOSMemory()
	lab, err := netkit.NewLab(netkit.LabOptions{Name: "bench"})
	if err != nil {
		res.err = err
		return res
	}
	defer func() {
		if err := lab.Close(); err != nil && res.err == nil {
			res.err = fmt.Errorf("closing the lab: %w", err)
		}
	}()
	e, err := lab.StartEngine(netkit.DaemonOptions{})
	if err != nil {
		res.err = err
		return res
	}
	name := func(i int) string { return fmt.Sprintf("b%d", i) }
	veths := func() (int, error) { return countVeths(lab.Host().Netlink()) }
	before, err := veths() // the host's own eth0 to the lab's LAN
	if err != nil {
		res.err = err
		return res
	}
	t0, c0 := time.Now(), cpuTime()
	err = forEach(n, cfg.upParallel, func(i int) error {
		pub, err := ports.ParsePublish(fmt.Sprintf("%d:80", 20000+i))
		if err != nil {
			return err
		}
		_, err = e.Run(netkit.RunOptions{
			Name: name(i), Image: "busybox", Comm: "sleep", Command: "sleep infinity", Publish: pub,
		})
		return err
	})
	res.up = time.Since(t0)
	upCPU := cpuTime() - c0
	if err != nil {
		res.err = fmt.Errorf("docker run: %w", err)
		return res
	}
	pids := append([]int{os.Getpid()}, descendants(os.Getpid())...)
	res.pss, res.procs = sumPSS(pids)
	if cfg.verbose {
		cfg.logf("bench: labrun, N=%d: %d processes; descriptors open in labrun: %s", n, len(pids), fdKinds())
	}

	t1, c1 := time.Now(), cpuTime()
	err = forEach(n, cfg.downParallel, func(i int) error { return e.Remove(name(i), true) })
	if err == nil {
		err = waitVeths(veths, before, time.Minute)
	}
	res.down = time.Since(t1)
	cfg.logf("bench: labrun, N=%d: CPU up %.2f ms/ctr, down %.2f ms/ctr (labrun and the processes it reaped)",
		n, ms(upCPU)/float64(n), ms(cpuTime()-c1)/float64(n))
	if err != nil {
		res.err = fmt.Errorf("docker rm -f: %w", err)
	}
	return res
}
