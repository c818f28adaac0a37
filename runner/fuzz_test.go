package runner

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit"
)

// The fuzz targets below feed the scenario commands' argument parsers with
// arbitrary command lines (one argument per whitespace-separated word, as a
// scenario line splits them): a parser never panics, refuses what it cannot
// use with a usage error of its command's kind (pflag's texts for docker
// and dockerd, ErrUsage for labrun's probes), and what it accepts is
// consistent. `make fuzz` runs them; testdata/fuzz keeps what they found.

// fuzzSeeds are command lines from the bad-input table and the scenarios.
func fuzzSeeds(f *testing.F, prefix string) {
	for _, b := range badInputs {
		if rest, ok := strings.CutPrefix(b.cmd, prefix); ok {
			f.Add(rest)
		}
	}
}

func FuzzDockerRunFlags(f *testing.F) {
	fuzzSeeds(f, "docker run ")
	for _, s := range []string{
		"-d --name web -p 10111:22 -p 801:80 web-ssh",
		"-itd --rm -p 127.0.0.1::80/udp --expose 7000-7002 -P httpd sh -c 'echo hi'",
		"--net=container:web -e A=B busybox ls -l",
		"--network x --ip 10.9.0.5 -h box -dp 80 httpd",
		"-- httpd", "-d=false httpd", "--publish-all=maybe httpd", "-p=80 -p",
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
		if rf.image == "" || strings.HasPrefix(rf.image, "-") && rf.image != "-" && !contains(args, "--") {
			t.Fatalf("parseRunFlags(%q): image %q", args, rf.image)
		}
		o, _, err := runOptions(rf)
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

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func FuzzDockerdFlags(f *testing.F) {
	fuzzSeeds(f, "dockerd ")
	for _, s := range []string{
		"", "-b bridge0", "--bip=192.168.1.1/24 --fixed-cidr 192.168.1.0/25 --default-gateway 192.168.1.254",
		"--icc=false --iptables=false --ip-forward=false --ip-masq=false --ip 127.0.0.1 --userland-proxy=false",
		"-b=none", "--mtu 1400", "--compat 28", "--bip", "-bx", "--icc false",
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

func FuzzProbeFlags(f *testing.F) {
	for _, prefix := range []string{"reach ", "ping ", "http ", "ssh "} {
		fuzzSeeds(f, prefix)
	}
	for _, s := range []string{
		"client 192.168.190.128:80", "-udp -timeout 300ms client 203.0.113.10:53",
		"-timeout=2s -password x client root@192.168.190.128:10111 hostname -f",
		"--timeout 1s client 1.2.3.4:5", "-timeout 0 client", "-timeout", "-udp=false x y", "-- -x y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		var udp bool
		var password string
		rest, timeout, err := probeFlags(args, time.Second, func(fs *flagSet) {
			fs.Bool(&udp, "", "udp")
			fs.String(&password, "", "password")
		})
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("probeFlags(%q): error %#v is not a usage error", args, err)
			}
			return
		}
		if timeout <= 0 {
			t.Fatalf("probeFlags(%q): timeout %v", args, timeout)
		}
		if len(rest) > len(args) {
			t.Fatalf("probeFlags(%q): more arguments left (%q) than given", args, rest)
		}
	})
}
