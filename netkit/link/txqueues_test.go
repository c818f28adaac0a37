package link

import "testing"

func TestCountCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"0", 1}, {"0-1", 2}, {"0-3,8,10-11", 7}, {"0-4095", 4096},
	} {
		got, err := countCPUList(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("countCPUList(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "3-1", "0-", "-1", "1,,2"} {
		if n, err := countCPUList(bad); err == nil {
			t.Errorf("countCPUList(%q) = %d, want an error", bad, n)
		}
	}
}
