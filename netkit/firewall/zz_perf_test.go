package firewall

import (
	"testing"
	"time"
)

func TestZZPerf(t *testing.T) {
	for _, existing := range []int{0, 1000, 5000, 1000} {
		p := newProgrammer(t)
		c := Config{IPForwardFlipped: true}
		apply(t, p, [][]Op{c.Start(), c.AddNetwork(docker0)})
		var pre []Port
		for i := range existing {
			pre = append(pre, benchPort(i))
		}
		t0 := time.Now()
		apply(t, p, [][]Op{c.AddPorts(docker0, pre...)})
		t.Logf("preload %d: %v", existing, time.Since(t0))
		var ds []time.Duration
		for i := 0; i < 20; i++ {
			t0 := time.Now()
			if err := p.Apply(c.AddPorts(docker0, benchPort(existing+i))); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		t.Logf("existing %d: %v", existing, ds)
	}
}
