package netns_test

import (
	"os"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
)

// benchStarts starts the containers' waiter (package initproc) in a
// namespace while the process holds 4000 descriptors, as labrun does with
// 1000 containers, by Start (fork from labrun's table) or by Spawn (fork
// from a spawner thread's own table), and reports the time to start it
// (us-start), to its readiness (us-ready) and to kill and reap it (us-end).
func benchStarts(b *testing.B, spawn bool) {
	ns, err := netns.New()
	if err != nil {
		b.Skip(err)
	}
	defer ns.Close()
	var held []*os.File
	for i := 0; i < 4000; i++ {
		f, _ := os.Open("/dev/null")
		held = append(held, f)
	}
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()
	exe, err := initproc.WaiterExe()
	if err != nil || exe == nil {
		b.Skip("no waiter")
	}
	cfg := initproc.Config{Mode: initproc.ModeInit, Comm: "w", Hostname: "h"}
	b.ResetTimer()
	var tStart, tReady, tEnd time.Duration
	defer func() {
		b.ReportMetric(float64(tStart.Microseconds())/float64(b.N), "us-start")
		b.ReportMetric(float64(tReady.Microseconds())/float64(b.N), "us-ready")
		b.ReportMetric(float64(tEnd.Microseconds())/float64(b.N), "us-end")
	}()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		cmd, _ := initproc.Waiter(cfg)
		rd, wr, _ := os.Pipe()
		var p *os.Process
		if spawn {
			p, err = ns.Spawn(netns.Spawn{Exe: exe, Args: cmd.Args, Env: cmd.Env, Extra: []*os.File{wr}}, netns.StartOptions{NewUTS: true})
		} else {
			cmd.ExtraFiles = []*os.File{wr}
			err = ns.Start(cmd, netns.StartOptions{NewUTS: true})
			p = cmd.Process
		}
		wr.Close()
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		var buf [1]byte
		rd.Read(buf[:])
		rd.Close()
		t2 := time.Now()
		p.Kill()
		p.Wait()
		tStart += t1.Sub(t0)
		tReady += t2.Sub(t1)
		tEnd += time.Since(t2)
	}
}

func BenchmarkStartWaiter4000(b *testing.B) { benchStarts(b, false) }
func BenchmarkSpawnWaiter4000(b *testing.B) { benchStarts(b, true) }
