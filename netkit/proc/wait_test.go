package proc

import (
	"context"
	"errors"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWait: a program that exits is waited for, its exit status kept; one
// still running when the context ends is killed and reaped, and the error
// names it and the context's cause.
func TestWait(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 3")
	require.NoError(t, cmd.Start())
	err := Wait(context.Background(), cmd)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ExitCode(ee.ProcessState))

	cause := errors.New("scenario deadline")
	ctx, cancel := context.WithCancelCause(context.Background())
	cmd = exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	cancel(cause)
	err = Wait(ctx, cmd)
	require.ErrorIs(t, err, cause)
	assert.Contains(t, err.Error(), "sleep: killed")
	assert.NotNil(t, cmd.ProcessState, "the killed process is reaped")
}
