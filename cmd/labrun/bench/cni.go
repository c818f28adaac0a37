package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/netns"
)

// cniModule is the Go module of the CNI reference plugins.
const cniModule = "github.com/containernetworking/plugins"

// cniPlugins are installed plugin binaries.
type cniPlugins struct {
	dir     string // holds bridge, host-local, portmap
	version string
}

var cniPackages = []string{"plugins/main/bridge", "plugins/ipam/host-local", "plugins/meta/portmap"}

// installCNI installs the plugins with `go install` into a directory of
// the benchmark's cache (once per version), as a course or a CI job would
// get them.
//
// Equivalent to: GOBIN=DIR go install github.com/containernetworking/plugins/plugins/main/bridge@V …
func installCNI(cfg *config) (*cniPlugins, error) {
	base := cfg.cacheDir
	if base == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("finding a cache directory for the CNI plugins (use -cache): %w", err)
		}
		base = filepath.Join(d, "labrun", "bench")
	}
	p := &cniPlugins{dir: filepath.Join(base, "cni-plugins-"+cfg.cniVersion), version: cfg.cniVersion}
	missing := false
	for _, pkg := range cniPackages {
		if st, err := os.Stat(filepath.Join(p.dir, filepath.Base(pkg))); err != nil || st.Mode()&0o111 == 0 {
			missing = true
		}
	}
	if !missing {
		return p, nil
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("making %s: %w", p.dir, err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, serr := os.Stat(goCmd); serr != nil {
			return nil, fmt.Errorf("the cni method installs the plugins with the go command, which is not on PATH: %w", err)
		}
	}
	args := []string{"install"}
	for _, pkg := range cniPackages {
		args = append(args, cniModule+"/"+pkg+"@"+p.version)
	}
	fmt.Fprintf(cfg.stderr, "bench: installing the CNI plugins %s into %s\n", p.version, p.dir)
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "GOBIN="+p.dir, "GOWORK=off", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("installing the CNI plugins: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return p, nil
}

// benchCNI builds the lab with the CNI reference plugins, invoked as a
// container runtime invokes a network configuration list: for each
// container, bridge (which runs host-local) then portmap with CNI_COMMAND=ADD,
// and on removal portmap then bridge with CNI_COMMAND=DEL, each plugin a
// process started inside a scratch host namespace (its own netns, as the
// runtime's would be the host's). Each container's namespace is an
// anonymous one the benchmark holds; the plugins open it through /proc.
// host-local keeps its leases in a temporary directory of this run.
func benchCNI(cfg *config, p *cniPlugins, n int) (res result) {
	host, err := newScratchHost()
	if err != nil {
		res.err = err
		return res
	}
	defer host.close()
	state, err := os.MkdirTemp("", "labrun-bench-cni-")
	if err != nil {
		res.err = err
		return res
	}
	defer os.RemoveAll(state)
	id := runID()
	ctrs := make([]*netns.NS, n)
	results := make([][]byte, n)
	defer func() {
		for _, ns := range ctrs {
			if ns != nil {
				ns.Close()
			}
		}
	}()
	conf := cniConf{plugins: p, host: host.ns, state: state}

	t0 := time.Now()
	for i := 0; i < n; i++ {
		ns, err := netns.New()
		if err != nil {
			res.err = err
			return res
		}
		ctrs[i] = ns
		args := cniArgs{id: fmt.Sprintf("labrun-bench-%s-%d", id, i), netns: ns, port: basePort + i}
		r, err := conf.exec("ADD", "bridge", args, nil)
		if err != nil {
			res.err = err
			return res
		}
		results[i] = r
		if _, err := conf.exec("ADD", "portmap", args, r); err != nil {
			res.err = err
			return res
		}
	}
	res.up = time.Since(t0)

	t1 := time.Now()
	for i := 0; i < n; i++ {
		args := cniArgs{id: fmt.Sprintf("labrun-bench-%s-%d", id, i), netns: ctrs[i], port: basePort + i}
		if _, err := conf.exec("DEL", "portmap", args, results[i]); err != nil {
			res.err = err
			return res
		}
		if _, err := conf.exec("DEL", "bridge", args, results[i]); err != nil {
			res.err = err
			return res
		}
		ctrs[i].Close()
		ctrs[i] = nil
	}
	if err := waitVeths(host.veths, 0, 2*time.Minute); err != nil {
		res.err = err
		return res
	}
	res.down = time.Since(t1)
	return res
}

// cniConf is the network configuration list the benchmark runs: Docker's
// default bridge done the CNI way.
type cniConf struct {
	plugins *cniPlugins
	host    *netns.NS
	state   string
}

// cniArgs are one container's invocation arguments.
type cniArgs struct {
	id    string
	netns *netns.NS
	port  int
}

// config returns plugin's configuration as the runtime (libcni) passes it:
// the list's name and version, the plugin's own keys, the capability
// arguments it asked for, and the previous plugin's result.
func (c cniConf) config(plugin string, a cniArgs, prev []byte) ([]byte, error) {
	conf := map[string]any{"cniVersion": "1.0.0", "name": "labrun-bench", "type": plugin}
	switch plugin {
	case "bridge":
		conf["bridge"] = bridgeName
		conf["isGateway"] = true
		conf["ipMasq"] = true
		conf["ipam"] = map[string]any{
			"type":    "host-local",
			"ranges":  [][]map[string]string{{{"subnet": subnet.String(), "gateway": gateway.Addr().String()}}},
			"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
			"dataDir": filepath.Join(c.state, "host-local"),
		}
	case "portmap":
		conf["capabilities"] = map[string]bool{"portMappings": true}
		conf["backend"] = "iptables"
		conf["snat"] = true
		conf["runtimeConfig"] = map[string]any{
			"portMappings": []map[string]any{{"hostPort": a.port, "containerPort": 80, "protocol": "tcp"}},
		}
	}
	if prev != nil {
		conf["prevResult"] = json.RawMessage(prev)
	}
	return json.Marshal(conf)
}

// exec runs one plugin inside the scratch host and returns its result.
//
// Equivalent to: CNI_COMMAND=CMD CNI_CONTAINERID=ID CNI_NETNS=PATH
// CNI_IFNAME=eth0 CNI_PATH=DIR DIR/PLUGIN < CONFIG
func (c cniConf) exec(command, plugin string, a cniArgs, prev []byte) ([]byte, error) {
	conf, err := c.config(plugin, a, prev)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(c.plugins.dir, plugin))
	cmd.Env = append(os.Environ(),
		"CNI_COMMAND="+command,
		"CNI_CONTAINERID="+a.id,
		// The container's namespace is held open by this process; the
		// plugin (root) opens it through this process's descriptor.
		"CNI_NETNS=/proc/"+strconv.Itoa(os.Getpid())+"/fd/"+strconv.Itoa(a.netns.Fd()),
		"CNI_IFNAME=eth0",
		"CNI_PATH="+c.plugins.dir,
	)
	cmd.Stdin = bytes.NewReader(conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := c.host.Start(cmd, netns.StartOptions{}); err != nil {
		return nil, fmt.Errorf("starting CNI plugin %s: %w", plugin, err)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("CNI %s %s for %s: %w: %s%s", plugin, command, a.id, err,
			strings.TrimSpace(stdout.String()), strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
