package prereq

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestParseCapEff(t *testing.T) {
	status := "Name:\tcat\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n"
	eff, err := parseCapEff(status)
	if err != nil || eff != 0x000001fffeffffff {
		t.Fatalf("parseCapEff = %x, %v; want 1fffeffffff", eff, err)
	}
	if eff&(1<<capNetAdmin) == 0 || eff&(1<<capSysAdmin) == 0 {
		t.Errorf("full root capabilities lack NET_ADMIN or SYS_ADMIN")
	}
	// Docker's default set for a non-privileged container: no NET_ADMIN, no SYS_ADMIN.
	eff, err = parseCapEff("CapEff:\t00000000a80425fb\n")
	if err != nil || eff&(1<<capNetAdmin) != 0 || eff&(1<<capSysAdmin) != 0 {
		t.Errorf("parseCapEff(docker default) = %x, %v", eff, err)
	}
	for _, bad := range []string{"", "Name:\tx\n", "CapEff:\tzz\n"} {
		if _, err := parseCapEff(bad); err == nil {
			t.Errorf("parseCapEff(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseModuleIndex(t *testing.T) {
	dep := "kernel/drivers/net/veth.ko.xz:\nkernel/net/bridge/bridge.ko.zst: kernel/net/802/stp.ko.zst kernel/net/llc/llc.ko.zst\nkernel/net/netfilter/nft-compat.ko\n\nnot a module\n"
	want := map[string]bool{"veth": true, "bridge": true, "nft_compat": true}
	if got := parseModuleIndex(dep); !reflect.DeepEqual(got, want) {
		t.Errorf("parseModuleIndex = %v, want %v", got, want)
	}
}

func TestParseKernelConfig(t *testing.T) {
	cfg := parseKernelConfig("#\n# Automatically generated\nCONFIG_VETH=m\n# CONFIG_BRIDGE is not set\nCONFIG_LOCALVERSION=\"-fc\"\nCONFIG_NF_TABLES=y\n")
	want := map[string]string{"CONFIG_VETH": "m", "CONFIG_BRIDGE": "n", "CONFIG_LOCALVERSION": "-fc", "CONFIG_NF_TABLES": "y"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("parseKernelConfig = %v, want %v", cfg, want)
	}
}

func TestKernelFactsMissing(t *testing.T) {
	veth := feature{"veth", "veth", "CONFIG_VETH"}
	tests := []struct {
		facts kernelFacts
		want  string // a substring of the message, or "" for no problem
	}{
		{kernelFacts{loaded: true}, ""},
		{kernelFacts{builtin: true, indexRead: true}, ""},
		{kernelFacts{loadable: true, indexRead: true, config: "m"}, ""},
		{kernelFacts{config: "y"}, ""},
		{kernelFacts{}, ""}, // nothing readable: unknown, not reported
		{kernelFacts{config: "m"}, "CONFIG_VETH=m"},
		{kernelFacts{config: "n", indexRead: true}, "CONFIG_VETH is not set"},
		{kernelFacts{indexRead: true}, "neither built in nor a module"},
	}
	for _, tt := range tests {
		got := tt.facts.missing(veth, "6.1.0-test")
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%+v.missing = %q, want %q", tt.facts, got, tt.want)
		}
	}
}

func TestBackendOf(t *testing.T) {
	if b, fs := backendOf("iptables v1.8.9 (nf_tables)\n"); b != "nf_tables" || fs[0].config != "CONFIG_NF_TABLES" {
		t.Errorf("backendOf(nf_tables) = %s, %v", b, fs)
	}
	for _, v := range []string{"iptables v1.8.9 (legacy)\n", "iptables v1.6.1\n"} {
		if b, fs := backendOf(v); b != "legacy" || fs[0].config != "CONFIG_IP_NF_IPTABLES" {
			t.Errorf("backendOf(%q) = %s, %v", v, b, fs)
		}
	}
}

// fakeSystem is a machine made of files and commands.
type fakeSystem struct {
	euid  int
	files map[string]string // path -> content; "" marks an existing directory
	path  map[string]bool   // binaries found in PATH
	runs  map[string]error  // command line -> its error
	ran   []string
}

func (f *fakeSystem) system() system {
	return system{
		euid: f.euid,
		readFile: func(name string) ([]byte, error) {
			if c, ok := f.files[name]; ok {
				return []byte(c), nil
			}
			return nil, fs.ErrNotExist
		},
		exists: func(name string) bool { _, ok := f.files[name]; return ok },
		lookPath: func(file string) (string, error) {
			if f.path[file] {
				return "/usr/sbin/" + file, nil
			}
			return "", exec.ErrNotFound
		},
		run: func(name string, args ...string) (string, error) {
			line := strings.Join(append([]string{name}, args...), " ")
			f.ran = append(f.ran, line)
			if line == "iptables --version" && f.runs[line] == nil {
				return "iptables v1.8.9 (nf_tables)\n", nil
			}
			return "", f.runs[line]
		},
	}
}

func gz(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// goodMachine is this project's CI machine: root, a kernel without module
// support whose parts are all built in, told by /proc/config.gz alone.
func goodMachine(t *testing.T) *fakeSystem {
	return &fakeSystem{
		files: map[string]string{
			"/proc/self/status":          "CapEff:\t000001fffeffffff\n",
			"/proc/self/ns/net":          "",
			"/proc/sys/kernel/osrelease": "6.18.44-fc\n",
			"/proc/config.gz":            gz(t, "CONFIG_NET_NS=y\nCONFIG_VETH=y\nCONFIG_BRIDGE=y\nCONFIG_NF_TABLES=y\nCONFIG_NFT_COMPAT=y\nCONFIG_NFT_NAT=y\n"),
			"/sys/module/bridge":         "",
		},
		path: map[string]bool{"iptables": true, "iptables-restore": true, "iptables-save": true},
		runs: map[string]error{},
	}
}

func messages(ps []Problem) []string {
	var ms []string
	for _, p := range ps {
		ms = append(ms, p.Msg)
	}
	return ms
}

func TestCheckGoodMachine(t *testing.T) {
	m := goodMachine(t)
	if ps := check(m.system()); len(ps) != 0 {
		t.Errorf("check found problems on a good machine:\n%s", strings.Join(messages(ps), "\n"))
	}
	if want := []string{"iptables --version", "iptables-save"}; !reflect.DeepEqual(m.ran, want) {
		t.Errorf("check ran %q, want %q", m.ran, want)
	}
}

func TestCheckProblems(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(m *fakeSystem)
		want  []string // one substring per expected problem, in order
	}{
		{"user", func(m *fakeSystem) {
			m.euid = 1000
			m.files["/proc/self/status"] = "CapEff:\t0000000000000000\n"
		}, []string{"not root and no CAP_NET_ADMIN or CAP_SYS_ADMIN: run labrun as root"}},
		{"unprivileged container", func(m *fakeSystem) {
			m.files["/proc/self/status"] = "CapEff:\t00000000a80425fb\n"
		}, []string{"root but without CAP_NET_ADMIN or CAP_SYS_ADMIN (CapEff 00000000a80425fb)"}},
		{"no iptables package", func(m *fakeSystem) {
			m.path = map[string]bool{}
		}, []string{
			"iptables not found: install it with apt-get install iptables",
			"iptables-restore not found: install it with apt-get install iptables",
			"iptables-save not found: install it with apt-get install iptables",
		}},
		{"sbin not in PATH", func(m *fakeSystem) {
			delete(m.path, "iptables-restore")
			m.files["/usr/sbin/iptables-restore"] = "binary"
		}, []string{"iptables-restore is in /usr/sbin but /usr/sbin is not in PATH"}},
		{"no netns", func(m *fakeSystem) {
			delete(m.files, "/proc/self/ns/net")
		}, []string{"kernel without network namespaces"}},
		{"veth a module not installed, bridge missing", func(m *fakeSystem) {
			delete(m.files, "/sys/module/bridge")
			m.files["/proc/config.gz"] = gz(t, "CONFIG_VETH=m\nCONFIG_NF_TABLES=y\nCONFIG_NFT_COMPAT=y\nCONFIG_NFT_NAT=y\n")
		}, []string{
			"veth is a module (CONFIG_VETH=m) but kernel 6.18.44-fc has no veth.ko",
			"kernel 6.18.44-fc is built without bridge (CONFIG_BRIDGE is not set): boot a kernel with CONFIG_BRIDGE",
		}},
		{"modules loadable", func(m *fakeSystem) {
			delete(m.files, "/proc/config.gz")
			delete(m.files, "/sys/module/bridge")
			m.files["/lib/modules/6.18.44-fc/modules.dep"] = "kernel/drivers/net/veth.ko.xz:\nkernel/net/bridge/bridge.ko.xz: kernel/net/802/stp.ko.xz\nkernel/net/netfilter/nf_tables.ko.xz:\nkernel/net/netfilter/nft_compat.ko.xz:\nkernel/net/netfilter/nft_chain_nat.ko.xz:\n"
		}, nil},
		{"no nft_compat", func(m *fakeSystem) {
			m.files["/proc/config.gz"] = gz(t, "CONFIG_VETH=y\nCONFIG_BRIDGE=y\nCONFIG_NF_TABLES=y\nCONFIG_NFT_NAT=y\n")
		}, []string{"built without nft_compat (CONFIG_NFT_COMPAT is not set), which iptables (nf_tables) needs"}},
		{"iptables-save fails", func(m *fakeSystem) {
			m.runs["iptables-save"] = errors.New("exit status 1: Could not fetch rule set generation id: Invalid argument")
		}, []string{"iptables-save fails (exit status 1: Could not fetch rule set generation id: Invalid argument)"}},
		{"iptables does not run", func(m *fakeSystem) {
			m.runs["iptables --version"] = errors.New("exit status 127")
		}, []string{"iptables does not run (exit status 127): reinstall it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := goodMachine(t)
			tt.spoil(m)
			got := messages(check(m.system()))
			if len(got) != len(tt.want) {
				t.Fatalf("check found %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
				if strings.Contains(got[i], "\n") {
					t.Errorf("problem %d spans lines: %q", i, got[i])
				}
			}
		})
	}
}

func TestCheckNeverLoadsModules(t *testing.T) {
	// nf_tables only loadable: iptables-save could make the kernel load it,
	// so check must not run it.
	m := goodMachine(t)
	delete(m.files, "/proc/config.gz")
	m.files["/sys/module/veth"] = ""
	m.files["/lib/modules/6.18.44-fc/modules.dep"] = "kernel/net/netfilter/nf_tables.ko.xz:\nkernel/net/netfilter/nft_compat.ko.xz:\nkernel/net/netfilter/nft_chain_nat.ko.xz:\n"
	if ps := check(m.system()); len(ps) != 0 {
		t.Errorf("check found problems:\n%s", strings.Join(messages(ps), "\n"))
	}
	for _, r := range m.ran {
		if r == "iptables-save" {
			t.Errorf("check ran iptables-save although nf_tables is only loadable")
		}
	}
}

// TestCheckHere runs the real check on this machine. It asserts nothing
// about the machine, only that every problem is one line that names a fix.
func TestCheckHere(t *testing.T) {
	for _, p := range Check() {
		t.Logf("prereq: %s", p.Msg)
		if p.Missing == "" || strings.Contains(p.Msg, "\n") || !strings.Contains(p.Msg, ": ") {
			t.Errorf("malformed problem %+v", p)
		}
	}
}
