package trace

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/testkit"
)

// What a trace costs: the whole of one (the article's -p 801:80 from the
// client, with and without the reply, in the classroom world's five
// namespaces), and its parts: marking one namespace and unmarking it, and
// assembling a walk from recorded events. docs/trace.md quotes the
// figures.
func BenchmarkTrace(b *testing.B) {
	testkit.RequireLab(b)
	lab, err := netkit.NewLab(netkit.LabOptions{Name: "bench"})
	require.NoError(b, err)
	defer lab.Close()
	e, err := lab.StartEngine(netkit.DaemonOptions{})
	require.NoError(b, err)
	web := publishWeb(b, e)
	serve(b, web.Node().NS())
	tg, err := ParseTarget([]string{"192.168.190.128:801"})
	require.NoError(b, err)
	for _, reply := range []bool{false, true} {
		name := "publish"
		if reply {
			name += "-reply"
		}
		b.Run(name, func(b *testing.B) {
			nodes := labNodes(lab)
			for b.Loop() {
				res, err := Run(context.Background(), Options{Nodes: nodes, From: "client", Target: tg, Reply: reply})
				if err != nil || res.Walk.End != EndDelivered {
					b.Fatalf("trace: %v %v", err, res)
				}
			}
		})
	}
}

// BenchmarkMark: adding the trace's tables to a namespace and removing
// them, the part of a trace that grows with the lab's namespaces.
func BenchmarkMark(b *testing.B) {
	ns := testkit.NewNS(b, testkit.NSOptions{})
	m := match{Proto: unix.IPPROTO_TCP, Port: 40000, Table: testTable}
	for b.Loop() {
		if err := mark(ns, m, true); err != nil {
			b.Fatal(err)
		}
		if err := unmark(ns, testTable); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalk: assembling the walk of TestWalkPublished's events.
func BenchmarkWalk(b *testing.B) {
	for b.Loop() {
		client, host, web := publishedEvents()
		walkOf(b, []*nodeData{client, host, web}, "client", walkInput{})
	}
}
