package compose

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHint(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"services:\n  web:\n    image: httpd\n    netwroks: [a]\n", `:4: "netwroks" is not a key Compose knows here (a service); did you mean "networks"?`},
		{"servics:\n  web: {image: httpd}\n", `:1: "servics" is not a key Compose knows here (the top level); did you mean "services"?`},
		{"services:\n  web: {image: httpd}\nnetworks:\n  back:\n    drivr: bridge\n", `:5: "drivr" is not a key Compose knows here (a network); did you mean "driver"?`},
		{"services:\n  web:\n    image: httpd\n    networks:\n      default: {aliase: [x]}\n", `:5: "aliase" is not a key Compose knows here (a service's network); did you mean "aliases"?`},
		{"services:\n  web:\n    image: httpd\n    frobnicate: 1\n", `:4: "frobnicate" is not a key Compose knows here (a service)`},
		// Names that are the file's own, and extensions, are not keys.
		{"services:\n  anything: {image: httpd, x-mine: 1}\nnetworks:\n  whatever: {}\nx-top: 1\n", ""},
	} {
		f := filepath.Join(t.TempDir(), "compose.yaml")
		require.NoError(t, os.WriteFile(f, []byte(tt.yaml), 0o644))
		want := ""
		if tt.want != "" {
			want = f + tt.want
		}
		assert.Equal(t, want, hint([]string{f}), tt.yaml)
	}
}

func TestDistance(t *testing.T) {
	assert.Equal(t, 0, distance("ports", "ports"))
	assert.Equal(t, 2, distance("netwroks", "networks"))
	assert.Equal(t, 1, distance("image", "images"))
	assert.Equal(t, "", nearest("frobnicate", []string{"image", "ports"}))
	assert.Equal(t, "ports", nearest("PORTS", []string{"image", "ports"}))
}
