package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/userns"
	"github.com/labrun/labrun/netkit/world"
	"github.com/labrun/labrun/runner/dockercli"
)

// stateKey is the Env.Values key of a script's state.
type stateKey struct{}

// scriptState is what Setup makes for one script.
type scriptState struct {
	// lab is nil until a command needs it (Env.Lab), when makeLab builds
	// it from world; given says it is the caller's (SetupLab).
	lab     *netkit.Lab
	labMu   sync.Mutex
	world   *world.World
	makeLab func(*world.World) (*netkit.Lab, error)
	given   bool
	ctx     context.Context
	vars    []string // names of the script's environment variables
	workdir string
	// captures are the script's packet captures (capture, packets, nat).
	captures *captureSet
	// environ is the environment of a command run by Exec, outside any
	// script.
	environ map[string]string
	// docker is the script's docker CLI session (cmd_docker.go).
	docker *dockercli.Session
	// stdin is the caller's input for a command run by Exec (docker run
	// -i, exec -i, attach); nil in scripts.
	stdin dockercli.Input
}

// Options are what a caller adds to Setup, such as the labrun command's
// -keep and -pcap-dir and its record of the labs to close when it is
// interrupted. The zero value is Setup's behaviour: a fresh lab per script,
// closed when the script ends.
type Options struct {
	// KeepDir, when set, is where a failed script's lab is pinned
	// (labrun -keep: /run/netns), as it was when the script failed, and
	// not closed.
	KeepDir string
	// Kept, when set, receives what KeepDir kept of a failed script.
	Kept func(t testscript.T, k KeptLab)
	// PcapDir, when set, also receives every capture's pcap file, as
	// SCENARIO-NAME.pcap.
	PcapDir string
	// Lab, when set, is the lab every script uses (SetupLab): the
	// caller's, never closed by a script.
	Lab *netkit.Lab
	// Labs, when set, is told of every lab a script makes and of its
	// script's end, so that the caller can close the labs still open when
	// it must stop (labrun on SIGINT or SIGTERM).
	Labs LabRegistry
}

// LabRegistry follows the labs that scripts make. Its methods are called
// from the scripts' goroutines, concurrently.
type LabRegistry interface {
	// Register records a lab a script has just made (when its first
	// command that needs a lab runs). An error refuses it (the caller is
	// stopping): the script closes the lab and fails with that error,
	// before that command does anything, even under "!".
	Register(*netkit.Lab) error
	// Unregister forgets a lab whose script has ended.
	Unregister(*netkit.Lab)
}

// KeptLab is what Options.KeepDir kept of a failed script.
type KeptLab struct {
	// Prefix starts the names of the lab's pinned namespaces
	// (labrun-SCENARIO-RANDOM-), each followed by its node's or
	// container's name.
	Prefix string
	// Pins are the paths of the pinned namespaces, in KeepDir.
	Pins []string
	// WorkDir is the script's $WORK.
	WorkDir string
	// Err is why the lab could not be pinned, or nil.
	Err error
}

// Setup adds labrun's scenario language to p, in the manner of
// go-internal's gotooltest.Setup: it chains any existing p.Setup, adds the
// commands (dockerd, docker, on, reach, ping, http, ssh, env-stdout, capture, packets, nat, trace) to p.Cmds and the
// conditions ([root], [netadmin], [iptables]) to p.Condition, and gives every
// script a fresh lab, closed when the script ends.
//
// The lab is built from the script's world (the classroom, unless the
// script's first command is `world` or it has a world.yaml section) by the
// first command that needs it. A script's environment also gets the
// world's addresses: in the classroom HOST_IP (192.168.190.128), CLIENT_IP,
// GATEWAY_IP and INTERNET_IP, and HOST_IP6 (2001:db8:190::128) and the
// others' IPv6 addresses; NODE_IP and NODE_IP6 for each node of another.
//
// Commands take p.Deadline, when set, as the deadline for the programs they
// run.
func Setup(p *testscript.Params) error { return SetupWith(p, Options{}) }

// SetupWith is Setup with the caller's additions o (see Options).
func SetupWith(p *testscript.Params, o Options) error {
	if p.Cmds == nil {
		p.Cmds = map[string]func(*testscript.TestScript, bool, []string){}
	}
	for name, c := range commands {
		if _, ok := p.Cmds[name]; ok {
			return fmt.Errorf("setting up labrun: Params.Cmds already has a %q command", name)
		}
		p.Cmds[name] = tsCmd(c)
	}
	origCond := p.Condition
	p.Condition = func(cond string) (bool, error) {
		ok, known, err := condition(cond)
		if known || origCond == nil {
			return ok, err
		}
		return origCond(cond)
	}
	origSetup := p.Setup
	deadline := p.Deadline
	p.Setup = func(env *testscript.Env) error {
		if origSetup != nil {
			if err := origSetup(env); err != nil {
				return err
			}
		}
		name := scriptName(env.T())
		st := &scriptState{lab: o.Lab, given: o.Lab != nil, workdir: env.WorkDir, captures: newCaptureSet(name, env.WorkDir, o.PcapDir)}
		if st.given {
			// The lab's world is the script's when labrun up found it
			// (ScriptWorld), or the one -world named.
			st.world = o.Lab.World()
		} else {
			w, err := sectionWorld(env.WorkDir)
			if err != nil {
				return err
			}
			st.world = w
		}
		registered := false
		st.makeLab = func(w *world.World) (*netkit.Lab, error) {
			lab, err := netkit.NewLab(netkit.LabOptions{Name: name, World: w})
			if err != nil {
				return nil, err
			}
			if o.Labs != nil {
				// The caller closes the labs still open when it must stop.
				if err := o.Labs.Register(lab); err != nil {
					lab.Close()
					return nil, err
				}
				registered = true
			}
			return lab, nil
		}
		env.Defer(func() {
			if registered {
				o.Labs.Unregister(st.lab)
			}
		})
		// A kept lab is pinned as it was when the script failed, and not
		// closed: closing would stop its containers and remove their
		// links and rules. Its processes still die with labrun. A lab
		// the caller owns (SetupLab) outlives the script.
		kept := st.given
		env.Defer(func() {
			if !kept && st.lab != nil {
				st.lab.Close()
			}
		})
		if o.KeepDir != "" {
			env.Defer(func() {
				if f, ok := env.T().(interface{ Failed() bool }); !ok || !f.Failed() || st.lab == nil {
					return
				}
				k := KeptLab{Prefix: pinPrefix(name), WorkDir: env.WorkDir}
				k.Pins, k.Err = st.lab.Pin(o.KeepDir, k.Prefix)
				kept = k.Err == nil
				if o.Kept != nil {
					o.Kept(env.T(), k)
				}
			})
		}
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if !deadline.IsZero() {
			ctx, cancel = context.WithDeadline(ctx, deadline)
		}
		ctx, cancel2 := context.WithCancel(ctx)
		env.Defer(func() { cancel2(); cancel() })

		for k, v := range st.world.Vars() {
			env.Setenv(k, v)
		}
		st.ctx = ctx
		seen := map[string]bool{}
		for _, kv := range env.Vars {
			k, _, _ := strings.Cut(kv, "=")
			// testscript's own shorthands ${/}, ${:} and $$ are not for
			// programs.
			if k == "/" || k == ":" || k == "$" || seen[k] {
				continue
			}
			seen[k] = true
			st.vars = append(st.vars, k)
		}
		env.Values[stateKey{}] = st
		return nil
	}
	return nil
}

// scriptName is the scenario's name, from the subtest name testscript gave
// it ("TestScenarios/publish-ports" → "publish-ports").
func scriptName(t testscript.T) string {
	if n, ok := t.(interface{ Name() string }); ok {
		return path.Base(n.Name())
	}
	return "lab"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// pinPrefix names a kept lab's namespaces: labrun-<scenario>-<random>-NODE,
// so that parallel runs of the same scenario never collide.
func pinPrefix(scenario string) string {
	var b [3]byte
	rand.Read(b[:])
	return "labrun-" + unsafeName.ReplaceAllString(scenario, "_") + "-" + hex.EncodeToString(b[:]) + "-"
}

// Cond is a condition that scripts can test with [NAME] or [!NAME].
type Cond struct {
	// Name is the condition; a prefix condition ends with ":" and takes
	// a suffix ([exec:ssh]).
	Name    string
	Summary string
	// eval reports whether the condition holds; nil for testscript's own.
	eval func(suffix string) (bool, error)
}

// Conditions lists the conditions scenarios can use: labrun's own, and
// the testscript built-ins that scenarios need.
func Conditions() []Cond {
	out := append([]Cond(nil), conditions...)
	out = append(out, Cond{Name: "exec:", Summary: "the program named by the suffix is in PATH ([exec:ssh], [exec:curl]); testscript's built-in."})
	out = append(out, Cond{Name: "compat:", Summary: "the engine a script starts without flags reproduces the Docker era named by the suffix ([compat:27], [compat:28], [compat:29]): 27 unless $LABRUN_DOCKERD (e.g. `--compat=29 --firewall-backend=nftables`) says otherwise. A release with its minor version ([compat:20.10]) must also match the engine API version that $LABRUN_DOCKERD's `--compat` picks."})
	out = append(out, Cond{Name: "linktype:", Summary: "the kernel has the link type named by the suffix ([linktype:ipvlan], [linktype:vlan], [linktype:dummy], [linktype:macvlan]), as `ip link add ... type NAME` needs it: macvlan and ipvlan networks, their 802.1Q (`parent=eth0.50`) and dummy (no `parent`) parents. Asked once, in a throwaway namespace, without making a link. Where it lacks one, Docker's error follows, and a scenario says so with `[!linktype:ipvlan] skip 'this kernel lacks the ipvlan link type'`."})
	out = append(out, Cond{Name: "firewall:", Summary: "the engine a script starts without flags programs the firewall back end named by the suffix ([firewall:iptables], [firewall:nftables]): iptables unless $LABRUN_DOCKERD says `--firewall-backend=nftables`; `on host iptables ...` shows no Docker rules under nftables, `on host nft list ruleset` does."})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var conditions = []Cond{
	{Name: "root", Summary: "labrun runs as root (uid 0).", eval: func(string) (bool, error) {
		return os.Geteuid() == 0, nil
	}},
	{Name: "netadmin", Summary: "labrun can create network namespaces (root, or CAP_SYS_ADMIN and CAP_NET_ADMIN).", eval: cached(func() (bool, error) {
		return netns.Available() == nil, nil
	})},
	{Name: "rootless", Summary: "labrun runs as an ordinary user, in a user namespace of its own (docs/rootless.md); `[!rootless] skip 'REASON'` marks what needs root.", eval: func(string) (bool, error) {
		_, ok := userns.Rootless()
		return ok, nil
	}},
	{Name: "iptables", Summary: "the iptables binary is in PATH and works inside a fresh network namespace.", eval: cached(iptablesWorks)},
}

// condition evaluates one of labrun's conditions; known is false for a
// condition it does not define.
func condition(cond string) (ok, known bool, err error) {
	if era, isCompat := strings.CutPrefix(cond, "compat:"); isCompat {
		ok, err := dockercli.CompatCondition(era)
		return ok, true, err
	}
	if backend, isFirewall := strings.CutPrefix(cond, "firewall:"); isFirewall {
		ok, err := dockercli.FirewallCondition(backend)
		return ok, true, err
	}
	if kind, isLinkType := strings.CutPrefix(cond, "linktype:"); isLinkType {
		ok, err := linkTypes.has(kind)
		return ok, true, err
	}
	for _, c := range conditions {
		if c.Name == cond {
			ok, err := c.eval("")
			return ok, true, err
		}
	}
	return false, false, fmt.Errorf("unknown condition %q", cond)
}

// cached evaluates f once per process.
func cached(f func() (bool, error)) func(string) (bool, error) {
	var once sync.Once
	var ok bool
	var err error
	return func(string) (bool, error) {
		once.Do(func() { ok, err = f() })
		return ok, err
	}
}

// linkTypes are the kernel's link types that scripts asked about.
var linkTypes = kernelLinkTypes{known: map[string]bool{}}

type kernelLinkTypes struct {
	mu    sync.Mutex
	known map[string]bool
}

// has reports whether the kernel has link type kind (see link.Supported),
// asked in a throwaway namespace, once per kind.
//
// Equivalent to: ip netns add probe; ip -n probe link add x type KIND
func (k *kernelLinkTypes) has(kind string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ok, asked := k.known[kind]; asked {
		return ok, nil
	}
	ns, err := netns.New()
	if err != nil {
		return false, fmt.Errorf("asking the kernel for link type %s: %w", kind, err)
	}
	defer ns.Close()
	h, err := link.OpenHandle(ns)
	if err != nil {
		return false, fmt.Errorf("asking the kernel for link type %s: %w", kind, err)
	}
	defer h.Close()
	ok, err := link.Supported(h, kind)
	if err == nil {
		k.known[kind] = ok
	}
	return ok, err
}

// iptablesWorks runs `iptables -t nat -S` in a throwaway namespace: the
// binary must exist and its kernel backend must answer.
func iptablesWorks() (bool, error) {
	path, err := exec.LookPath("iptables")
	if err != nil {
		return false, nil
	}
	ns, err := netns.New()
	if err != nil {
		return false, nil
	}
	defer ns.Close()
	cmd := exec.Command(path, "-t", "nat", "-S")
	if err := ns.Start(cmd, netns.StartOptions{}); err != nil {
		return false, nil
	}
	return cmd.Wait() == nil, nil
}

// SetupLab is Setup for scripts that run against a lab the caller owns: every
// script of p uses lab instead of a fresh one, and no script closes it. A live
// lab (labrun up, cmd/labrun/classroom) runs its set-up script, then its checks,
// then a student's answer, one after the other, on the same lab this way.
// Commands and conditions are Setup's.
func SetupLab(p *testscript.Params, lab *netkit.Lab) error {
	if lab == nil {
		return fmt.Errorf("setting up labrun: SetupLab needs a lab")
	}
	return SetupWith(p, Options{Lab: lab})
}
