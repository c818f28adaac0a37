package images

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSSHDQuickCommands runs many commands that end at once: each must
// come back with its exit status, never with EOF. The server used to close
// the channel (exit status, then close) from the goroutine that waited for
// the command, racing with its answer to the exec request; a client whose
// channel closed before that answer saw EOF (1 session in a few hundred
// on a loaded machine, which made `ssh client ... true` in scenarios flaky).
func TestSSHDQuickCommands(t *testing.T) {
	t.Parallel()
	c := startProgram(t, ProgramSSHD, "sshd", "quick1")
	client := c.mustSSH(t)
	const n = 400
	for i := 0; i < n; i++ {
		s, err := client.NewSession()
		require.NoError(t, err, "session %d", i)
		err = within(t, opTimeout, "ssh exec", func() error { return s.Run("true") })
		s.Close()
		require.NoError(t, err, "session %d of %d: running true", i+1, n)
	}
}
