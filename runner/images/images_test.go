package images

import (
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/testkit"
)

// TestMain lets the test binary be re-executed as a container program.
func TestMain(m *testing.M) { testkit.Main(m) }

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		ref     string
		want    string // image name, "" for not found
		program string
	}{
		{"httpd", "httpd", ProgramHTTPD},
		{"httpd:latest", "httpd", ProgramHTTPD},
		{"sshd", "sshd", ProgramSSHD},
		{"web-ssh:latest", "web-ssh", ProgramWebSSH},
		{"busybox", "busybox", ""},
		{"httpd:2.4", "", ""},
		{"httpd:", "", ""},
		{"nginx", "", ""},
		{"", "", ""},
	} {
		im, ok := Lookup(tc.ref)
		assert.Equal(t, tc.want != "", ok, "Lookup(%q) found it", tc.ref)
		assert.Equal(t, tc.want, im.Name, "Lookup(%q)", tc.ref)
		assert.Equal(t, tc.program, im.Program, "Lookup(%q): program", tc.ref)
	}
}

func TestImageDetails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expose  []uint16
		comm    string
		command string
	}{
		{"httpd", []uint16{80}, "httpd", `"httpd-foreground"`},
		{"sshd", []uint16{22}, "sshd", `"/usr/sbin/sshd -D"`},
		{"web-ssh", []uint16{22, 80, 443}, "sshd", `"/usr/sbin/sshd -D"`},
		{"busybox", nil, "sh", `"sh"`},
	} {
		im, ok := Lookup(tc.name)
		require.True(t, ok, "Lookup(%q) failed", tc.name)
		var want []ports.Port
		for _, n := range tc.expose {
			want = append(want, ports.Port{Num: n, Proto: ports.TCP})
		}
		assert.Equal(t, want, im.Expose, "%s: Expose", tc.name)
		assert.Equal(t, tc.comm, im.Comm, "%s: Comm", tc.name)
		assert.Equal(t, tc.command, im.Command, "%s: Command", tc.name)
		assert.Equal(t, "latest", im.Tag, "%s: Tag", tc.name)
	}
}

func TestAll(t *testing.T) {
	all := All()
	require.Len(t, all, 4, "All()")
	hex12 := regexp.MustCompile(`^[0-9a-f]{12}$`)
	ids := map[string]bool{}
	var prev time.Time
	for i, im := range all {
		assert.Regexp(t, hex12, im.ID, "%s: ID is not 12 hex digits", im.Name)
		assert.False(t, ids[im.ID], "%s: duplicate ID %s", im.Name, im.ID)
		ids[im.ID] = true
		created, err := time.Parse(time.RFC3339, im.Created)
		assert.NoError(t, err, "%s: Created", im.Name)
		// docker images lists the newest first.
		if i > 0 {
			assert.False(t, created.After(prev), "%s is listed after an older image", im.Name)
		}
		prev = created
		assert.NotEmpty(t, im.Size, "%s: no Size", im.Name)
		if im.Program != "" {
			assert.Contains(t, initproc.Programs(), im.Program, "%s: program is not registered", im.Name)
		}
	}
	// IDs are stable: they are part of scenario transcripts.
	im, _ := Lookup("httpd")
	assert.Equal(t, "97dcf6709650", im.ID, "httpd ID")
}

func TestLookupReturnsCopy(t *testing.T) {
	im, _ := Lookup("web-ssh")
	im.Expose[0].Num = 9999
	again, _ := Lookup("web-ssh")
	require.Equal(t, uint16(22), again.Expose[0].Num, "modifying a looked-up image changed the catalogue: %v", again.Expose)
}

// TestArgv: a program the machine has runs as it is; one it lacks runs as
// busybox's applet, when busybox has it; anything else is left for the
// runtime's "executable file not found".
func TestArgv(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("no busybox on this machine")
	}
	look := func(name string) (string, error) {
		if name == "busybox" {
			return bb, nil
		}
		if name == "cat" {
			return "/bin/cat", nil
		}
		return "", exec.ErrNotFound
	}
	assert.Equal(t, []string{"cat", "/etc/hosts"}, Argv([]string{"cat", "/etc/hosts"}, look))
	assert.Equal(t, []string{bb, "nslookup", "web"}, Argv([]string{"nslookup", "web"}, look))
	assert.Equal(t, []string{"nosuchtool"}, Argv([]string{"nosuchtool"}, look))
	assert.Equal(t, []string{"/bin/nslookup"}, Argv([]string{"/bin/nslookup"}, look))
}

// TestImageMain says which program a container of each image runs without a
// COMMAND: busybox's sh exits at once unless -i or -t keeps it waiting.
func TestImageMain(t *testing.T) {
	bb, _ := Lookup("busybox")
	httpd, _ := Lookup("httpd")
	assert.Equal(t, ProgramShellEOF, bb.Main(false, false), "docker run -d busybox")
	assert.Equal(t, "", bb.Main(true, false), "docker run -di busybox")
	assert.Equal(t, "", bb.Main(false, true), "docker run -dt busybox")
	assert.Equal(t, "", bb.Main(true, true), "docker run -dit busybox")
	assert.Equal(t, ProgramHTTPD, httpd.Main(false, false), "docker run -d httpd")
}
