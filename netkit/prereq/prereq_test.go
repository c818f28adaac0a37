package prereq

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCapEff(t *testing.T) {
	status := "Name:\tcat\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n"
	eff, err := parseCapEff(status)
	require.NoError(t, err, "parseCapEff")
	require.Equal(t, uint64(0x000001fffeffffff), eff, "parseCapEff")
	assert.NotZero(t, eff&(1<<capNetAdmin), "full root capabilities lack NET_ADMIN")
	assert.NotZero(t, eff&(1<<capSysAdmin), "full root capabilities lack SYS_ADMIN")
	// Docker's default set for a non-privileged container: no NET_ADMIN, no SYS_ADMIN.
	eff, err = parseCapEff("CapEff:\t00000000a80425fb\n")
	assert.NoError(t, err, "parseCapEff(docker default)")
	assert.Zero(t, eff&(1<<capNetAdmin), "parseCapEff(docker default) has NET_ADMIN")
	assert.Zero(t, eff&(1<<capSysAdmin), "parseCapEff(docker default) has SYS_ADMIN")
	for _, bad := range []string{"", "Name:\tx\n", "CapEff:\tzz\n"} {
		_, err := parseCapEff(bad)
		assert.Error(t, err, "parseCapEff(%q)", bad)
	}
}

func TestParseModuleIndex(t *testing.T) {
	dep := "kernel/drivers/net/veth.ko.xz:\nkernel/net/bridge/bridge.ko.zst: kernel/net/802/stp.ko.zst kernel/net/llc/llc.ko.zst\nkernel/net/netfilter/nft-compat.ko\n\nnot a module\n"
	want := map[string]bool{"veth": true, "bridge": true, "nft_compat": true}
	assert.Equal(t, want, parseModuleIndex(dep), "parseModuleIndex")
}

func TestParseKernelConfig(t *testing.T) {
	cfg := parseKernelConfig("#\n# Automatically generated\nCONFIG_VETH=m\n# CONFIG_BRIDGE is not set\nCONFIG_LOCALVERSION=\"-fc\"\nCONFIG_NF_TABLES=y\n")
	want := map[string]string{"CONFIG_VETH": "m", "CONFIG_BRIDGE": "n", "CONFIG_LOCALVERSION": "-fc", "CONFIG_NF_TABLES": "y"}
	assert.Equal(t, want, cfg, "parseKernelConfig")
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
		if tt.want == "" {
			assert.Empty(t, got, "%+v.missing", tt.facts)
		} else {
			assert.Contains(t, got, tt.want, "%+v.missing", tt.facts)
		}
	}
}

func TestBackendOf(t *testing.T) {
	b, fs := backendOf("iptables v1.8.9 (nf_tables)\n")
	assert.Equal(t, "nf_tables", b, "backendOf(nf_tables)")
	assert.Equal(t, "CONFIG_NF_TABLES", fs[0].config, "backendOf(nf_tables): first feature")
	for _, v := range []string{"iptables v1.8.9 (legacy)\n", "iptables v1.6.1\n"} {
		b, fs := backendOf(v)
		assert.Equal(t, "legacy", b, "backendOf(%q)", v)
		assert.Equal(t, "CONFIG_IP_NF_IPTABLES", fs[0].config, "backendOf(%q): first feature", v)
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
	assert.Empty(t, messages(check(m.system())), "check found problems on a good machine")
	assert.Equal(t, []string{"iptables --version", "iptables-save"}, m.ran, "commands check ran")
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
			require.Len(t, got, len(tt.want), "problems check found")
			for i, w := range tt.want {
				assert.Contains(t, got[i], w, "problem %d", i)
				assert.NotContains(t, got[i], "\n", "problem %d spans lines", i)
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
	assert.Empty(t, messages(check(m.system())), "check found problems")
	assert.NotContains(t, m.ran, "iptables-save", "check ran iptables-save although nf_tables is only loadable")
}

// TestCheckHere runs the real check on this machine. It asserts nothing
// about the machine, only that every problem is one line that names a fix.
func TestCheckHere(t *testing.T) {
	for _, p := range Check() {
		t.Logf("prereq: %s", p.Msg)
		assert.NotEmpty(t, p.Missing, "malformed problem %+v: no Missing", p)
		assert.NotContains(t, p.Msg, "\n", "malformed problem %+v: several lines", p)
		assert.Contains(t, p.Msg, ": ", "malformed problem %+v: names no fix", p)
	}
}
