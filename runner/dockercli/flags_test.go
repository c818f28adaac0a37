package dockercli

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/runner/images"
)

// TestDockerUsage checks Docker's messages for wrong arguments, which need
// no engine.
func TestDockerUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"run"}, `"docker run" requires at least 1 argument.
See 'docker run --help'.

Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image
`, 1},
		{[]string{"container", "run", "-d"}, `"docker container run" requires at least 1 argument.`, 1},
		{[]string{"run", "--bogus", "httpd"}, "unknown flag: --bogus\nSee 'docker run --help'.\n", 125},
		{[]string{"port", "a", "b", "c"}, `"docker port" requires at least 1 and at most 2 arguments.`, 1},
		{[]string{"network", "connect", "lan"}, `"docker network connect" requires exactly 2 arguments.`, 1},
		{[]string{"ps", "x"}, `"docker ps" accepts no arguments.`, 1},
		{[]string{"images", "a", "b"}, `"docker images" requires at most 1 argument.`, 1},
		{[]string{"network", "ls", "-z"}, "unknown shorthand flag: 'z' in -z\nSee 'docker network ls --help'.\n", 125},
	} {
		var stdout, stderr bytes.Buffer
		err := new(Session).Docker(context.Background(), tc.args, IO{Stdout: &stdout, Stderr: &stderr})
		var ee *ExitError
		if assert.ErrorAs(t, err, &ee, "docker %q", tc.args) {
			assert.Equal(t, tc.code, ee.Code, "docker %q: exit status", tc.args)
		}
		assert.True(t, strings.HasPrefix(stderr.String(), tc.want), "docker %q: stderr\n%s\nwant\n%s", tc.args, stderr.String(), tc.want)
	}
	for _, args := range [][]string{nil, {"build", "."}, {"network"}} {
		assert.ErrorIs(t, new(Session).Docker(context.Background(), args, IO{}), ErrNotImplemented, "docker %q", args)
	}
}

func TestSubcommandTable(t *testing.T) {
	for _, s := range dockerSubs {
		if s.run == nil || s.Use == "" || s.Short == "" {
			t.Errorf("docker %s: incomplete subcommand", s.Name)
		}
	}
}

func TestParseDockerd(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want netkit.DaemonOptions
	}{
		{nil, netkit.DaemonOptions{}},
		{[]string{"-b", "bridge0"}, netkit.DaemonOptions{Bridge: "bridge0"}},
		{[]string{"--bridge=bridge0"}, netkit.DaemonOptions{Bridge: "bridge0"}},
		{[]string{"-bbridge0"}, netkit.DaemonOptions{Bridge: "bridge0"}},
		{[]string{"--bip", "192.168.1.1/24"}, netkit.DaemonOptions{BIP: netip.MustParsePrefix("192.168.1.1/24")}},
		{[]string{"--bip=192.168.1.1/24"}, netkit.DaemonOptions{BIP: netip.MustParsePrefix("192.168.1.1/24")}},
		{[]string{"--fixed-cidr", "10.2.2.0/24", "--default-gateway=10.2.2.254"}, netkit.DaemonOptions{
			FixedCIDR: netip.MustParsePrefix("10.2.2.0/24"), DefaultGateway: netip.MustParseAddr("10.2.2.254")}},
		{[]string{"--icc=false", "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false"},
			netkit.DaemonOptions{NoICC: true, NoIPTables: true, NoIPForward: true, NoIPMasq: true, NoUserlandProxy: true}},
		{[]string{"--icc", "--iptables=true", "--ip-masq=1"}, netkit.DaemonOptions{}},
		{[]string{"--ip", "192.168.190.128"}, netkit.DaemonOptions{IP: netip.MustParseAddr("192.168.190.128")}},
		{[]string{"--", "--icc=false"}, netkit.DaemonOptions{}}, // checked below: an argument
	} {
		got, err := parseDockerd(tc.args)
		if tc.args != nil && tc.args[0] == "--" {
			assert.Error(t, err, "parseDockerd(%q): no error for an argument", tc.args)
			continue
		}
		if !assert.NoError(t, err, "parseDockerd(%q)", tc.args) {
			continue
		}
		assert.Equal(t, tc.want, got, "parseDockerd(%q)", tc.args)
	}
}

func TestParseDockerdErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--foo"}, "unknown flag: --foo"},
		{[]string{"--foo=bar"}, "unknown flag: --foo"},
		{[]string{"-z"}, "unknown shorthand flag: 'z' in -z"},
		{[]string{"--icc", "false"}, `"dockerd" accepts no arguments.`},
		{[]string{"--icc=maybe"}, `invalid argument "maybe" for "--icc" flag: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{[]string{"--bip"}, "flag needs an argument: --bip"},
		{[]string{"-b"}, "flag needs an argument: 'b' in -b"},
		{[]string{"--bip", "nonsense"}, `invalid argument "nonsense" for "--bip" flag: invalid CIDR address: nonsense`},
		{[]string{"--default-gateway", "x"}, `invalid argument "x" for "--default-gateway" flag: invalid string being converted to IP address: x`},
	} {
		_, err := parseDockerd(tc.args)
		assert.EqualError(t, err, tc.want, "parseDockerd(%q)", tc.args)
	}
}

func TestParseRunFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want runFlags
	}{
		{[]string{"-d", "--name", "web", "-p", "10111:22", "-p", "801:80", "web-ssh"},
			runFlags{detach: true, name: "web", publish: []string{"10111:22", "801:80"}, image: "web-ssh"}},
		{[]string{"-itd", "--name=c1", "busybox"},
			runFlags{detach: true, interactive: true, tty: true, name: "c1", image: "busybox"}},
		{[]string{"-dit", "busybox", "/bin/sh"},
			runFlags{detach: true, interactive: true, tty: true, image: "busybox", command: []string{"/bin/sh"}}},
		{[]string{"-dp", "80:80", "httpd"}, runFlags{detach: true, publish: []string{"80:80"}, image: "httpd"}},
		{[]string{"-p80:80", "-dP", "httpd"}, runFlags{detach: true, publishAll: true, publish: []string{"80:80"}, image: "httpd"}},
		{[]string{"-p=8080:80", "--publish", "8443:443", "--publish=9000:9000", "httpd"},
			runFlags{publish: []string{"8080:80", "8443:443", "9000:9000"}, image: "httpd"}},
		{[]string{"--net=container:web", "busybox"}, runFlags{network: "container:web", image: "busybox"}},
		{[]string{"--network", "host", "-d", "httpd"}, runFlags{network: "host", detach: true, image: "httpd"}},
		{[]string{"--net=none", "--network=bridge", "busybox"}, runFlags{network: "bridge", image: "busybox"}},
		{[]string{"-h", "myhost", "--rm", "--ip", "10.1.0.5", "busybox", "ls", "-l", "--all"},
			runFlags{hostname: "myhost", rm: true, ip: "10.1.0.5", image: "busybox", command: []string{"ls", "-l", "--all"}}},
		{[]string{"--hostname=h", "--expose", "7000-7002", "--expose=8080/udp", "-P", "httpd"},
			runFlags{hostname: "h", expose: []string{"7000-7002", "8080/udp"}, publishAll: true, image: "httpd"}},
		{[]string{"-e", "A=1", "--env=B=2", "-d=false", "--", "busybox", "env"},
			runFlags{env: []string{"A=1", "B=2"}, image: "busybox", command: []string{"env"}}},
		// The name options, as the CLI's validators keep them.
		{[]string{"--network-alias", "site", "--net-alias=www", "--link", "ww:web", "--link=plain", "--domainname", "example.org", "busybox"},
			runFlags{aliases: []string{"site", "www"}, links: []string{"ww:web", "plain"}, domainname: "example.org", image: "busybox"}},
		{[]string{"--dns", "9.9.9.9", "--dns= 0:0::1", "--dns-search", "Ex.COM.", "--dns-search=.", "--dns-opt", "x", "--dns-option=ndots:2", "busybox"},
			runFlags{dns: []string{"9.9.9.9", "::1"}, dnsSearch: []string{"Ex.COM", "."}, dnsOptions: []string{"x", "ndots:2"}, image: "busybox"}},
		{[]string{"--add-host", "h1:1.2.3.4", "--add-host=h2=::1", "--add-host", "h3:::1", "--add-host", "h4=[::1]",
			"--add-host", "h5:[1.2.3.4]", "--add-host", "gw:host-gateway", "--add-host", "h6:0:0:0:0:0:0:0:1", "busybox"},
			runFlags{extraHosts: []string{"h1:1.2.3.4", "h2:::1", "h3:::1", "h4:::1", "h5:1.2.3.4", "gw:host-gateway", "h6:0:0:0:0:0:0:0:1"}, image: "busybox"}},
	} {
		got, err := parseRunFlags(tc.args)
		if !assert.NoError(t, err, "parseRunFlags(%q)", tc.args) {
			continue
		}
		assert.Equal(t, tc.want, got, "parseRunFlags(%q)", tc.args)
	}
}

func TestParseRunFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--foo", "httpd"}, "unknown flag: --foo"},
		{[]string{"-dz", "httpd"}, "unknown shorthand flag: 'z' in -dz"},
		{[]string{"--name"}, "flag needs an argument: --name"},
		{[]string{"-dp"}, "flag needs an argument: 'p' in -dp"},
		{[]string{"--rm=yes", "httpd"}, `invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax`},
		{[]string{"-d=no", "httpd"}, `invalid argument "no" for "-d, --detach" flag: strconv.ParseBool: parsing "no": invalid syntax`},
		// The CLI's validators (seen with the 28.2.2 CLI).
		{[]string{"--add-host", "nocolon", "httpd"}, `invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"`},
		{[]string{"--add-host", ":1.2.3.4", "httpd"}, `invalid argument ":1.2.3.4" for "--add-host" flag: bad format for add-host: ":1.2.3.4"`},
		{[]string{"--add-host=a:b=1.2.3.4", "httpd"}, `invalid argument "a:b=1.2.3.4" for "--add-host" flag: bad format for add-host: "a:b=1.2.3.4"`},
		{[]string{"--add-host", "h:1.2.3", "httpd"}, `invalid argument "h:1.2.3" for "--add-host" flag: invalid IP address in add-host: "1.2.3"`},
		{[]string{"--add-host", "h=[::1", "httpd"}, `invalid argument "h=[::1" for "--add-host" flag: invalid IP address in add-host: "[::1"`},
		{[]string{"--dns", "1.2.3", "httpd"}, `invalid argument "1.2.3" for "--dns" flag: IP address is not correctly formatted: 1.2.3`},
		{[]string{"--dns-search", "-bad", "httpd"}, `invalid argument "-bad" for "--dns-search" flag: -bad is not a valid domain`},
		{[]string{"--dns-search", "a_b", "httpd"}, `invalid argument "a_b" for "--dns-search" flag: a_b is not a valid domain`},
		{[]string{"--dns-search", "123", "httpd"}, `invalid argument "123" for "--dns-search" flag: 123 is not a valid domain`},
		{[]string{"--link", "a:b:c", "httpd"}, `invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c`},
		{[]string{"--link=", "httpd"}, `invalid argument "" for "--link" flag: empty string specified for links`},
		{[]string{"--add-host", "nocolon", "--bogus", "httpd"}, `invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"`},
		{[]string{"--bogus", "--add-host", "nocolon", "httpd"}, "unknown flag: --bogus"},
	} {
		_, err := parseRunFlags(tc.args)
		var fe *flagError
		assert.ErrorAs(t, err, &fe, "parseRunFlags(%q): want a flag error", tc.args)
		assert.EqualError(t, err, tc.want, "parseRunFlags(%q)", tc.args)
	}
	_, err := parseRunFlags([]string{"-d", "--name", "web"})
	assert.ErrorIs(t, err, errNoImage, "parseRunFlags without an image")
}

func TestRunOptions(t *testing.T) {
	f, err := parseRunFlags([]string{"-d", "--name", "web", "-p", "10111:22", "-p", "127.0.0.1::80", "--expose", "7000-7001", "web-ssh"})
	require.NoError(t, err)
	o, err := runOptions(f)
	require.NoError(t, err)
	ws, _ := images.Lookup("web-ssh")
	want := netkit.RunOptions{
		Name: "web", Image: "web-ssh", Program: ws.Program, Comm: "sshd", Command: "/usr/sbin/sshd -D",
		Expose: ws.Expose,
		Publish: []ports.Binding{
			{Container: ports.Port{Num: 22, Proto: ports.TCP}, HostPort: 10111},
			{Container: ports.Port{Num: 80, Proto: ports.TCP}, HostIP: netip.MustParseAddr("127.0.0.1")},
		},
		ExtraExpose: []ports.Port{{Num: 7000, Proto: ports.TCP}, {Num: 7001, Proto: ports.TCP}},
	}
	assert.Equal(t, want, o, "runOptions")

	f, _ = parseRunFlags([]string{"--net=container:web", "busybox", "sleep", "100"})
	o, err = runOptions(f)
	require.NoError(t, err)
	if o.Network != (netkit.Mode{Kind: netkit.ModeContainer, Container: "web"}) || o.Program != "" || o.Comm != "sleep" || o.Command != "sleep 100" {
		t.Errorf("runOptions(--net=container:web busybox sleep 100) = %+v", o)
	}

	for _, tc := range []struct {
		args     []string
		msg      string
		daemon   bool
		notFound bool
	}{
		{[]string{"nosuch"}, "pull access denied for nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", true, true},
		{[]string{"-p", "80/bogus", "httpd"}, "invalid proto: bogus", false, false},
		{[]string{"-p", "0", "httpd"}, `invalid port specification: "0/tcp"`, true, false},
		{[]string{"--net", "container", "busybox"}, "invalid container format container:<name|id>", true, false},
		{[]string{"--ip", "10.0.0.300", "busybox"}, "invalid IPv4 address: 10.0.0.300", false, false},
		// The CLI's own check, before it looks for the image.
		{[]string{"--network-alias", "x", "nosuch"}, "network-scoped aliases are only supported for user-defined networks", false, false},
		{[]string{"--network", "bridge", "--net-alias", "x", "busybox"}, "network-scoped aliases are only supported for user-defined networks", false, false},
		{[]string{"--network", "host", "--network-alias", "x", "busybox"}, "network-scoped aliases are only supported for user-defined networks", false, false},
		{[]string{"--network", "container:web", "--network-alias", "x", "busybox"}, "network-scoped aliases are only supported for user-defined networks", false, false},
	} {
		f, err := parseRunFlags(tc.args)
		require.NoError(t, err)
		_, err = runOptions(f)
		var re *runError
		if !errors.As(err, &re) || re.msg != tc.msg || re.daemon != tc.daemon || re.notFound != tc.notFound {
			t.Errorf("runOptions(%q) error = %#v, want %q (daemon %v, not found %v)", tc.args, err, tc.msg, tc.daemon, tc.notFound)
		}
	}
}

// TestRunOptionsNames: the name options as netkit takes them: aliases on a
// user-defined network, links with their alias ("" when none was
// typed), --dns addresses.
func TestRunOptionsNames(t *testing.T) {
	f, err := parseRunFlags([]string{"--network", "app", "--network-alias", "site", "--link", "ww:web", "--link", "/w2:/c/x",
		"--link", "plain", "--dns", "::ffff:1.2.3.4", "--dns", "2001:db8::1", "-h", "box", "--domainname", "example.org",
		"--add-host", "h=[::1]", "--dns-search", "a.example", "--dns-option", "ndots:2", "busybox"})
	require.NoError(t, err)
	o, err := runOptions(f)
	require.NoError(t, err)
	assert.Equal(t, []string{"site"}, o.Aliases)
	assert.Equal(t, []netkit.Link{{Name: "ww", Alias: "web"}, {Name: "w2", Alias: "x"}, {Name: "plain"}}, o.Links)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("2001:db8::1")}, o.DNS)
	assert.Equal(t, "box", o.Hostname)
	assert.Equal(t, "example.org", o.Domainname)
	assert.Equal(t, []string{"h:::1"}, o.ExtraHosts)
	assert.Equal(t, []string{"a.example"}, o.DNSSearch)
	assert.Equal(t, []string{"ndots:2"}, o.DNSOptions)
	assert.Equal(t, netkit.Mode{Network: "app"}, o.Network)
}

// TestLocalhostDNSWarning: the CLI's warning for --dns on the loopback,
// per CLI era.
func TestLocalhostDNSWarning(t *testing.T) {
	for _, tc := range []struct {
		cli   release.Era
		dns   []string
		want  string
		early bool
	}{
		{release.Era27, []string{"9.9.9.9", "127.0.0.53"}, "Localhost DNS setting (--dns=127.0.0.53) may fail in containers.", true},
		{release.Era27, []string{"2001:db8::1"}, "Localhost DNS setting (--dns=2001:db8::1) may fail in containers.", true},
		{release.Era28, []string{"::1"}, "Localhost DNS (::1) may fail in containers.", false},
		{release.Era28, []string{"2001:db8::1", "9.9.9.9"}, "", false},
		{release.Era29, []string{"127.0.0.1"}, "", false},
	} {
		msg, early := localhostDNSWarning(tc.cli, tc.dns)
		assert.Equal(t, tc.want, msg, "CLI %s, --dns %q", tc.cli, tc.dns)
		assert.Equal(t, tc.early, early, "CLI %s, --dns %q: before the create", tc.cli, tc.dns)
	}
}

// The fuzz targets below, next to the parsers' tests, feed docker run's and dockerd's flag parsers with
// arbitrary command lines (one argument per whitespace-separated word, as a
// scenario line splits them): a parser never panics, refuses what it cannot
// use with pflag's texts (or, for docker run, a missing image or an error
// docker run prints), and what it accepts is consistent. The seeds are the
// shapes of the bad inputs in runner's errors_test.go and of the scenarios.
// `make fuzz` runs them; testdata/fuzz keeps what they found.

func FuzzDockerRunFlags(f *testing.F) {
	for _, s := range []string{
		"-d --name web -p 10111:22 -p 801:80 web-ssh",
		"-itd --rm -p 127.0.0.1::80/udp --expose 7000-7002 -P httpd sh -c 'echo hi'",
		"--net=container:web -e A=B busybox ls -l",
		"--network x --ip 10.9.0.5 -h box -dp 80 httpd",
		"-- httpd", "-d=false httpd", "--publish-all=maybe httpd", "-p=80 -p",
		// Bad inputs.
		"", "--name", "--nope httpd", "-Z httpd", "-d -p", "-d nosuchimage",
		"-d -p 9090-9089:80 httpd", "-d -p -9090:80 httpd", "-d -p 1.2.3:80:80 httpd", "-d -p 80/sctpx httpd",
		"-d -p 70000:80 httpd", "-d -p 80:70000 httpd", "-d -p : httpd", "-d -p 0 httpd",
		"-d -p 8000-8001:80-82 httpd", "-d -p [::1:80:80 httpd", "-d --expose 80- httpd",
		"-d --name 'bad name' httpd", "-d --net container httpd", "-d --net container:a -h x httpd",
		"-d --net container:a -p 80:80 httpd", "-d --net nosuchnet httpd", "-d --ip 172.17.0.9 httpd",
		"-d --name web1 -p 801-802:80 -p 801-802:81 -p 801-802:82 httpd", "-d --name web2 -p 53:53/udp httpd",
		"--network app --network-alias a --link w:x --dns 9.9.9.9 --dns-search ex.org --dns-option ndots:1 --add-host h=[::1] busybox",
		"--network-alias a busybox", "--add-host nocolon busybox", "--dns 1.2.3 busybox", "--link a:b:c busybox",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		rf, err := parseRunFlags(args)
		if err != nil {
			var fe *flagError
			if !errors.Is(err, errNoImage) && (!errors.As(err, &fe) || fe.msg == "") {
				t.Fatalf("parseRunFlags(%q): error %#v is neither pflag's nor a missing image", args, err)
			}
			return
		}
		if rf.image == "" || strings.HasPrefix(rf.image, "-") && rf.image != "-" && !slices.Contains(args, "--") {
			t.Fatalf("parseRunFlags(%q): image %q", args, rf.image)
		}
		o, err := runOptions(rf)
		if err != nil {
			var re *runError
			if !errors.As(err, &re) || re.msg == "" {
				t.Fatalf("runOptions(%q): error %#v is not one docker run prints", args, err)
			}
			return
		}
		for _, b := range o.Publish {
			if b.Container.Num == 0 || b.Container.Proto == "" {
				t.Fatalf("runOptions(%q): published %+v", args, b)
			}
			if b.HostPortEnd != 0 && b.HostPortEnd < b.HostPort {
				t.Fatalf("runOptions(%q): host port range %d-%d", args, b.HostPort, b.HostPortEnd)
			}
		}
		if o.IP.IsValid() && !o.IP.Is4() {
			t.Fatalf("runOptions(%q): --ip %s is not IPv4", args, o.IP)
		}
		if o.Network.Kind == netkit.ModeContainer && o.Network.Container == "" {
			t.Fatalf("runOptions(%q): container mode without a container", args)
		}
		if len(o.DNS) != len(rf.dns) || len(o.Links) != len(rf.links) {
			t.Fatalf("runOptions(%q): --dns %q gave %v, --link %q gave %v", args, rf.dns, o.DNS, rf.links, o.Links)
		}
		for _, a := range o.DNS {
			if !a.IsValid() {
				t.Fatalf("runOptions(%q): --dns %q gave %v", args, rf.dns, o.DNS)
			}
		}
		for _, h := range o.ExtraHosts {
			if name, _, ok := strings.Cut(h, ":"); !ok || name == "" {
				t.Fatalf("runOptions(%q): --add-host %q sent as %q", args, rf.extraHosts, h)
			}
		}
	})
}

func FuzzDockerdFlags(f *testing.F) {
	for _, s := range []string{
		"", "-b bridge0", "--bip=192.168.1.1/24 --fixed-cidr 192.168.1.0/25 --default-gateway 192.168.1.254",
		"--icc=false --iptables=false --ip-forward=false --ip-masq=false --ip 127.0.0.1 --userland-proxy=false",
		"-b=none", "--mtu 1400", "--compat 28", "--bip", "-bx", "--icc false",
		// Bad inputs.
		"--nope", "--icc=maybe", "--bip 300.1.1.1/24", "extra", "-b nosuchbr", "-b br0 --bip 10.0.0.1/24",
		"--icc=false --bip 10.0.0.1/24 --fixed-cidr 10.1.0.0/24", "--bip 10.0.0.1/24 --default-gateway 10.1.0.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		o, err := parseDockerdFlags(args)
		if err != nil {
			var fe *flagError
			if !errors.As(err, &fe) || fe.msg == "" {
				t.Fatalf("parseDockerdFlags(%q): error %#v is not one dockerd prints", args, err)
			}
			return
		}
		for name, p := range map[string]interface{ IsValid() bool }{"--bip": o.BIP, "--fixed-cidr": o.FixedCIDR} {
			if p.IsValid() && !strings.Contains(line, strings.TrimPrefix(name, "-")) {
				t.Fatalf("parseDockerdFlags(%q): %s set without the flag", args, name)
			}
		}
		if o.BIP.IsValid() && !o.BIP.Addr().Is4() {
			t.Fatalf("parseDockerdFlags(%q): --bip %s is not IPv4", args, o.BIP)
		}
	})
}
