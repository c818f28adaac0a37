package images

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/ports"
)

// TestMain lets the test binary be re-executed as a container program.
func TestMain(m *testing.M) {
	initproc.MaybeRun()
	m.Run()
}

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
		if ok != (tc.want != "") || im.Name != tc.want || im.Program != tc.program {
			t.Errorf("Lookup(%q) = %q (program %q), %v; want %q (program %q)", tc.ref, im.Name, im.Program, ok, tc.want, tc.program)
		}
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
		if !ok {
			t.Fatalf("Lookup(%q) failed", tc.name)
		}
		var want []ports.Port
		for _, n := range tc.expose {
			want = append(want, ports.Port{Num: n, Proto: ports.TCP})
		}
		if !slices.Equal(im.Expose, want) {
			t.Errorf("%s: Expose = %v, want %v", tc.name, im.Expose, want)
		}
		if im.Comm != tc.comm || im.Command != tc.command || im.Tag != "latest" {
			t.Errorf("%s: Comm, Command, Tag = %q, %q, %q; want %q, %q, latest", tc.name, im.Comm, im.Command, im.Tag, tc.comm, tc.command)
		}
	}
}

func TestAll(t *testing.T) {
	all := All()
	if len(all) != 4 {
		t.Fatalf("All() has %d images, want 4", len(all))
	}
	hex12 := regexp.MustCompile(`^[0-9a-f]{12}$`)
	ids := map[string]bool{}
	var prev time.Time
	for i, im := range all {
		if !hex12.MatchString(im.ID) {
			t.Errorf("%s: ID %q is not 12 hex digits", im.Name, im.ID)
		}
		if ids[im.ID] {
			t.Errorf("%s: duplicate ID %s", im.Name, im.ID)
		}
		ids[im.ID] = true
		created, err := time.Parse(time.RFC3339, im.Created)
		assert.NoError(t, err, "%s: Created", im.Name)
		// docker images lists the newest first.
		if i > 0 && created.After(prev) {
			t.Errorf("%s is listed after an older image", im.Name)
		}
		prev = created
		if im.Size == "" {
			t.Errorf("%s: no Size", im.Name)
		}
		if im.Program != "" && !slices.Contains(initproc.Programs(), im.Program) {
			t.Errorf("%s: program %q is not registered", im.Name, im.Program)
		}
	}
	// IDs are stable: they are part of scenario transcripts.
	if im, _ := Lookup("httpd"); im.ID != "97dcf6709650" {
		t.Errorf("httpd ID = %s, want 97dcf6709650", im.ID)
	}
}

func TestLookupReturnsCopy(t *testing.T) {
	im, _ := Lookup("web-ssh")
	im.Expose[0].Num = 9999
	again, _ := Lookup("web-ssh")
	require.Equal(t, uint16(22), again.Expose[0].Num, "modifying a looked-up image changed the catalogue: %v", again.Expose)
}
