package dockercli

import (
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// now is the clock of the golden tables.
var now = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// publishedWeb is docker ps's view of the article's
// `docker run -d --name web -p 10111:22 -p 801:80 web-ssh`, in the API's
// (unsorted) order.
var publishedWeb = []psPort{
	{IP: "::", PrivatePort: 80, PublicPort: 801, Type: "tcp"},
	{PrivatePort: 443, Type: "tcp"},
	{IP: "0.0.0.0", PrivatePort: 22, PublicPort: 10111, Type: "tcp"},
	{IP: "0.0.0.0", PrivatePort: 80, PublicPort: 801, Type: "tcp"},
	{IP: "::", PrivatePort: 22, PublicPort: 10111, Type: "tcp"},
}

func both(private, public uint16, typ string) []psPort {
	return []psPort{
		{IP: "0.0.0.0", PrivatePort: private, PublicPort: public, Type: typ},
		{IP: "::", PrivatePort: private, PublicPort: public, Type: typ},
	}
}

func TestFormatPorts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ports []psPort
		want  string
	}{
		{"none", nil, ""},
		{"-p 801:80", both(80, 801, "tcp"), "0.0.0.0:801->80/tcp, :::801->80/tcp"},
		{"-p 10111:22 -p 801:80 web-ssh", publishedWeb,
			"443/tcp, 0.0.0.0:10111->22/tcp, :::10111->22/tcp, 0.0.0.0:801->80/tcp, :::801->80/tcp"},
		{"-P web-ssh", append(append(both(443, 32768, "tcp"), both(80, 32769, "tcp")...), both(22, 32770, "tcp")...),
			"0.0.0.0:32770->22/tcp, :::32770->22/tcp, 0.0.0.0:32769->80/tcp, :::32769->80/tcp, 0.0.0.0:32768->443/tcp, :::32768->443/tcp"},
		{"-p 80:80", both(80, 80, "tcp"), "0.0.0.0:80->80/tcp, :::80->80/tcp"},
		{"-p 8000-8002:8000-8002", append(append(both(8002, 8002, "tcp"), both(8000, 8000, "tcp")...), both(8001, 8001, "tcp")...),
			"0.0.0.0:8000-8002->8000-8002/tcp, :::8000-8002->8000-8002/tcp"},
		{"-p 9000-9002:80-82 is not collapsed", append(append(both(80, 9000, "tcp"), both(81, 9001, "tcp")...), both(82, 9002, "tcp")...),
			"0.0.0.0:9000->80/tcp, :::9000->80/tcp, 0.0.0.0:9001->81/tcp, :::9001->81/tcp, 0.0.0.0:9002->82/tcp, :::9002->82/tcp"},
		{"exposed only", []psPort{{PrivatePort: 443, Type: "tcp"}, {PrivatePort: 80, Type: "tcp"}}, "80/tcp, 443/tcp"},
		{"exposed range", []psPort{{PrivatePort: 7001, Type: "tcp"}, {PrivatePort: 7000, Type: "tcp"}, {PrivatePort: 7002, Type: "tcp"}, {PrivatePort: 7004, Type: "tcp"}},
			"7000-7002/tcp, 7004/tcp"},
		{"udp and tcp", append(both(53, 53, "udp"), psPort{IP: "127.0.0.1", PrivatePort: 53, PublicPort: 5353, Type: "tcp"}),
			"0.0.0.0:53->53/udp, :::53->53/udp, 127.0.0.1:5353->53/tcp"},
	} {
		assert.Equal(t, tc.want, formatPorts(tc.ports, release.Era27), "%s", tc.name)
	}
}

func TestHostPortCLIEra(t *testing.T) {
	// The Docker 27 CLI glues the address to the port; 28 and later
	// bracket IPv6 ("[::]:801").
	assert.Equal(t, ":::801", hostPort(release.Era27, "::", "801"), "hostPort(::, 801) in the Docker 27 CLI")
	assert.Equal(t, "0.0.0.0:801", hostPort(release.Era27, "0.0.0.0", "801"), "hostPort(0.0.0.0, 801)")
	assert.Equal(t, "[::]:801", hostPort(release.Era28, "::", "801"), "hostPort(::, 801) in the Docker 28 CLI")
}

var psRows = []psRow{
	{ID: "8100216da8cb1f0e6d2a1c0b9a8f7e6d5c4b3a29180716253443526170819abc", Image: "web-ssh", Command: "/usr/sbin/sshd -D",
		Created: now.Add(-2 * time.Second), State: "running", StartedAt: now.Add(-2 * time.Second), Name: "web", Ports: publishedWeb},
	{ID: "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef", Image: "busybox", Command: "sh -c while true; do sleep 1; done",
		Created: now.Add(-3 * time.Hour), State: "exited", ExitCode: 143, FinishedAt: now.Add(-65 * time.Minute), Name: "old"},
	{ID: "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", Image: "httpd", Command: "httpd-foreground",
		Created: now.Add(-90 * time.Second), State: "created", Name: "b"},
}

func TestFormatPs(t *testing.T) {
	for _, tc := range []struct {
		format string
		quiet  bool
		trunc  bool
		want   string
	}{
		{"", false, true, `
CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS                           PORTS                                                                                   NAMES
8100216da8cb   web-ssh   "/usr/sbin/sshd -D"      2 seconds ago        Up 2 seconds                     443/tcp, 0.0.0.0:10111->22/tcp, :::10111->22/tcp, 0.0.0.0:801->80/tcp, :::801->80/tcp   web
0123456789ab   busybox   "sh -c while true; d…"   3 hours ago          Exited (143) About an hour ago                                                                                           old
fedcba987654   httpd     "httpd-foreground"       About a minute ago   Created                                                                                                                  b
`},
		{"", false, false, `
CONTAINER ID                                                       IMAGE     COMMAND                                CREATED              STATUS                           PORTS                                                                                   NAMES
8100216da8cb1f0e6d2a1c0b9a8f7e6d5c4b3a29180716253443526170819abc   web-ssh   "/usr/sbin/sshd -D"                    2 seconds ago        Up 2 seconds                     443/tcp, 0.0.0.0:10111->22/tcp, :::10111->22/tcp, 0.0.0.0:801->80/tcp, :::801->80/tcp   web
0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef   busybox   "sh -c while true; do sleep 1; done"   3 hours ago          Exited (143) About an hour ago                                                                                           old
fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210   httpd     "httpd-foreground"                     About a minute ago   Created                                                                                                                  b
`},
		{"", true, true, `
8100216da8cb
0123456789ab
fedcba987654
`},
		{`table {{.Names}}\t{{.Status}}`, false, true, `
NAMES     STATUS
web       Up 2 seconds
old       Exited (143) About an hour ago
b         Created
`},
		{`{{.Names}} {{.State}} {{.Ports}}`, false, true, `
web running 443/tcp, 0.0.0.0:10111->22/tcp, :::10111->22/tcp, 0.0.0.0:801->80/tcp, :::801->80/tcp
old exited 
b created 
`},
	} {
		got, err := formatPs(psRows, tc.format, tc.quiet, tc.trunc, now, release.Era27)
		if !assert.NoError(t, err, "formatPs(%q)", tc.format) {
			continue
		}
		assert.Equal(t, strings.TrimPrefix(tc.want, "\n"), got, "formatPs(%q, quiet %v, trunc %v)", tc.format, tc.quiet, tc.trunc)
	}
	// The header is printed even with no containers.
	got, _ := formatPs(nil, "", false, true, now, release.Era27)
	assert.Equal(t, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n", got, "formatPs(no containers)")
}

func TestPortLines(t *testing.T) {
	ports := map[string][][2]string{
		"80/tcp":   {{"0.0.0.0", "801"}, {"::", "801"}},
		"22/tcp":   {{"0.0.0.0", "10111"}, {"::", "10111"}},
		"443/tcp":  {{"192.168.190.128", "32768"}},
		"8080/udp": {{"0.0.0.0", "8080"}},
	}
	want := `22/tcp -> 0.0.0.0:10111
22/tcp -> [::]:10111
80/tcp -> 0.0.0.0:801
80/tcp -> [::]:801
443/tcp -> 192.168.190.128:32768
8080/udp -> 0.0.0.0:8080`
	assert.Equal(t, want, strings.Join(portLines(ports, ""), "\n"), "portLines")
	assert.Equal(t, "0.0.0.0:801\n[::]:801", strings.Join(portLines(ports, "80/tcp"), "\n"), "portLines(80/tcp)")
}

func TestNaturalLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"80/tcp", "443/tcp", true},
		{"443/tcp", "80/tcp", false},
		{"lan9", "lan10", true},
		{"a", "b", true},
		{"a1", "a01", true},
		{"a", "a", false},
		{"a", "ab", true},
		{"1", "a", true},
	} {
		assert.Equal(t, tc.want, naturalLess(tc.a, tc.b), "naturalLess(%q, %q)", tc.a, tc.b)
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "Less than a second"},
		{time.Second, "1 second"},
		{45 * time.Second, "45 seconds"},
		{90 * time.Second, "About a minute"},
		{10 * time.Minute, "10 minutes"},
		{65 * time.Minute, "About an hour"},
		{5 * time.Hour, "5 hours"},
		{3 * 24 * time.Hour, "3 days"},
		{30 * 24 * time.Hour, "4 weeks"},
		{400 * 24 * time.Hour, "13 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	} {
		assert.Equal(t, tc.want, humanDuration(tc.d), "humanDuration(%v)", tc.d)
	}
}

func TestFormatImages(t *testing.T) {
	rows := []imageRow{
		{"web-ssh", "latest", "1a2b3c4d5e6f", "236MB", now.Add(-30 * 24 * time.Hour)},
		{"busybox", "latest", "abcdefabcdef", "4.26MB", now.Add(-400 * 24 * time.Hour)},
	}
	want := `REPOSITORY   TAG       IMAGE ID       CREATED         SIZE
web-ssh      latest    1a2b3c4d5e6f   4 weeks ago     236MB
busybox      latest    abcdefabcdef   13 months ago   4.26MB
`
	assert.Equal(t, want, formatImages(rows, false, now), "formatImages")
	assert.Equal(t, "1a2b3c4d5e6f\nabcdefabcdef\n", formatImages(rows, true, now), "formatImages(-q)")
}

func TestFormatNetworks(t *testing.T) {
	rows := []networkRow{
		{"9ebd291f6c9e0000", "none", "null", "local"},
		{"32c0f6c49959ffff", "bridge", "bridge", "local"},
		{"57cf4a8065c1aaaa", "lan10", "bridge", "local"},
		{"57cf4a8065c2aaaa", "lan9", "bridge", "local"},
		{"511e8b2cbce3bbbb", "host", "host", "local"},
	}
	want := `NETWORK ID     NAME      DRIVER    SCOPE
32c0f6c49959   bridge    bridge    local
511e8b2cbce3   host      host      local
57cf4a8065c2   lan9      bridge    local
57cf4a8065c1   lan10     bridge    local
9ebd291f6c9e   none      null      local
`
	assert.Equal(t, want, formatNetworks(rows, false, false), "formatNetworks")
	assert.Equal(t, "9ebd291f6c9e0000\n", formatNetworks(rows[:1], true, true), "formatNetworks(-q --no-trunc)")
}

func TestFormatTop(t *testing.T) {
	got := formatTop([]string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
		[][]string{{"root", "24448", "24423", "0", "23:36", "?", "00:00:00", "httpd"}})
	want := `UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD
root                24448               24423               0                   23:36               ?                   00:00:00            httpd
`
	assert.Equal(t, want, got, "formatTop")
}

type inspected struct {
	Name   string
	Args   []string
	State  struct{ Pid int }
	Config struct{ ExposedPorts map[string]struct{} }
	Ports  map[string][]map[string]string
	Tag    string `json:"Labels,omitempty"`
	Html   string
}

func TestInspect(t *testing.T) {
	var o inspected
	o.Name, o.Args, o.State.Pid = "/web", []string{"-D", "-e"}, 42
	o.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	o.Ports = map[string][]map[string]string{"80/tcp": {{"HostIp": "0.0.0.0", "HostPort": "801"}}}
	o.Html = "<&>"
	got, err := inspectJSON([]any{o})
	o.Tag = "lbl"
	require.NoError(t, err)
	want := `[
    {
        "Name": "/web",
        "Args": [
            "-D",
            "-e"
        ],
        "State": {
            "Pid": 42
        },
        "Config": {
            "ExposedPorts": {
                "80/tcp": {}
            }
        },
        "Ports": {
            "80/tcp": [
                {
                    "HostIp": "0.0.0.0",
                    "HostPort": "801"
                }
            ]
        },
        "Html": "\u003c\u0026\u003e"
    }
]
`
	assert.Equal(t, want, got, "inspectJSON")
	got, _ = inspectJSON(nil)
	assert.Equal(t, "[]\n", got, "inspectJSON(none)")
	got, _ = inspectCompact([]any{o})
	assert.True(t, strings.HasPrefix(got, `[{"Name":"/web","Args":["-D","-e"]`), "inspectCompact = %q", got)

	for _, tc := range []struct{ format, want string }{
		{`{{.Name}} {{.State.Pid}}`, "/web 42\n/web 42\n"},
		{`{{json .Ports}}`, `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"801"}]}` + "\n" + `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"801"}]}` + "\n"},
		{`{{join .Args ","}} {{upper .Name}}`, "-D,-e /WEB\n-D,-e /WEB\n"},
		{`{{range $p, $b := .Ports}}{{$p}} {{(index $b 0).HostPort}}{{end}}`, "80/tcp 801\n80/tcp 801\n"},
		{`{{json .Html}}`, `"<&>"` + "\n" + `"<&>"` + "\n"},
		// A field only the JSON has (a tag rename) is found through the
		// raw object, as the CLI's fallback does.
		{`{{.Labels}}`, "lbl\nlbl\n"},
	} {
		got, err := inspectTemplate(tc.format, []any{o, o})
		if !assert.NoError(t, err, "inspectTemplate(%q)", tc.format) {
			continue
		}
		assert.Equal(t, tc.want, got, "inspectTemplate(%q)", tc.format)
	}
	_, err = inspectTemplate(`{{.Nope}}`, []any{o})
	assert.ErrorContains(t, err, "template parsing error", "inspectTemplate(.Nope)")
	_, err = inspectTemplate(`{{`, []any{o})
	assert.ErrorContains(t, err, "template parsing error", "inspectTemplate({{)")
}

// TestCLIAPI: a docker CLI release's own API version, which it negotiates
// down to the engine's (CLI 28.2.2 speaks 1.50 to 29.8.1).
func TestCLIAPI(t *testing.T) {
	for v, want := range map[string]int{"28.2.2": 50, "20.10.24+dfsg1": 41, "27.5.1": 47, "28.5.2": 51, "29.0.1": 52, "24.0.9": 43} {
		got, ok := cliAPI(v)
		assert.True(t, ok, v)
		assert.Equal(t, want, got, "cliAPI(%s)", v)
	}
	_, ok := cliAPI("19.03.15")
	assert.False(t, ok, "a CLI labrun does not know speaks the engine's version")
}
