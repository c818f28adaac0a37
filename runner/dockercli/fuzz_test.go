package dockercli

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/labrun/labrun/netkit"
)

// The fuzz targets below feed docker run's and dockerd's flag parsers with
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
