package link

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCountCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"0", 1}, {"0-1", 2}, {"0-3,8,10-11", 7}, {"0-4095", 4096},
	} {
		got, err := countCPUList(tc.in)
		assert.NoError(t, err, "countCPUList(%q)", tc.in)
		assert.Equal(t, tc.want, got, "countCPUList(%q)", tc.in)
	}
	for _, bad := range []string{"", "x", "3-1", "0-", "-1", "1,,2"} {
		n, err := countCPUList(bad)
		assert.Error(t, err, "countCPUList(%q) = %d", bad, n)
	}
}
