// Package initproc turns a labrun binary (labrun itself, or any test binary
// that uses netkit) into the small programs that run inside a lab's
// namespaces: a container's main process, and the wrapper that gives `on
// NODE` and `docker exec` commands a /sys of their own network namespace.
// On linux/amd64 the two that need no Go — the main process of a container
// that runs no program (Waiter) and the exec wrapper (Exec) — are tiny
// machine-code programs held in memory instead, which start in a fraction
// of a millisecond where a re-executed labrun needs about 10 ms of CPU.
//
// Every binary that starts containers must call MaybeRun first thing in main
// (or TestMain). The programs a container can run (httpd, sshd, …) are
// registered by name with Register; netkit knows none of them, and the zero
// program is a process that only waits.
//
// It is not a process supervisor: processes it starts die with labrun, by a
// parent-death signal set when they are started.
package initproc

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// envKey carries the JSON Config of a re-executed labrun binary.
const envKey = "LABRUN_INITPROC"

// Mode says what a re-executed binary does.
type Mode string

const (
	// ModeInit is a container's main process: it sets the hostname and the
	// process name, runs Program, reports readiness on fd 3 and waits.
	ModeInit Mode = "init"
	// ModeExec remounts /sys for the current network namespace and then
	// replaces itself with Argv (execve).
	ModeExec Mode = "exec"
)

// Config is what the parent tells a re-executed binary.
type Config struct {
	Mode Mode `json:"mode"`
	// RemountSys remounts /sys so that sysfs shows the process's network
	// namespace. Requires a private mount namespace.
	RemountSys bool `json:"remount_sys,omitempty"`
	// Binds are files bind-mounted over others (a container's
	// /etc/resolv.conf, /etc/hosts, /etc/hostname), after /sys. Require a
	// private mount namespace.
	Binds []Bind `json:"binds,omitempty"`
	// Hostname, when set, is written with sethostname (needs a private UTS
	// namespace).
	Hostname string `json:"hostname,omitempty"`
	// Comm, when set, becomes the process name shown by ps, pgrep and
	// docker top.
	Comm string `json:"comm,omitempty"`
	// Program is a registered program name; empty means wait forever.
	Program string `json:"program,omitempty"`
	// Args are the program's arguments (ModeInit) or the command line to
	// exec (ModeExec, Args[0] is looked up in PATH).
	Args []string `json:"args,omitempty"`
	// Env holds extra KEY=VALUE strings for the program.
	Env []string `json:"env,omitempty"`
	// UTSFromPID, when set, joins the UTS namespace (hostname) of that
	// process before exec (docker exec sees the container's hostname).
	UTSFromPID int `json:"uts_from_pid,omitempty"`
	// NotifyExec (ModeExec): fd 3 is a pipe to the parent that closes when
	// execve succeeds (close-on-exec), or carries the error if it fails, so
	// the parent knows the program itself is running.
	NotifyExec bool `json:"notify_exec,omitempty"`
}

// Bind is one file or directory bind-mounted over another.
type Bind struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// maxBinds is how many binds the machine-code wrapper takes (one digit).
const maxBinds = 9

// Program is the body of a registered program. It runs inside the
// container's namespaces; it must call ready once it accepts connections,
// then serve until the process is killed. Returning ends the container's
// main process with the error printed on stderr.
type Program func(args []string, ready func()) error

var (
	mu       sync.Mutex
	programs = map[string]Program{}
)

// Register makes a program available to containers. It panics on a
// duplicate name, as registration happens in init functions.
func Register(name string, p Program) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := programs[name]; dup {
		panic("initproc: program registered twice: " + name)
	}
	programs[name] = p
}

// Programs lists the registered program names, sorted.
func Programs() []string {
	mu.Lock()
	defer mu.Unlock()
	var names []string
	for n := range programs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookup(name string) (Program, bool) {
	mu.Lock()
	defer mu.Unlock()
	p, ok := programs[name]
	return p, ok
}

// Command returns a command that re-executes the running binary with cfg.
// The caller starts it (usually through netns.NS.Start).
func Command(cfg Config) (*exec.Cmd, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding init config: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding own executable: %w", err)
	}
	name := cfg.Comm
	if name == "" {
		name = "labrun-init"
	}
	cmd := &exec.Cmd{Path: self, Args: []string{name}}
	cmd.Env = append(os.Environ(), envKey+"="+string(b))
	return cmd, nil
}

// MaybeRun runs the re-executed program and exits if this process was
// started by Command; otherwise it returns at once.
func MaybeRun() {
	raw, ok := os.LookupEnv(envKey)
	if !ok {
		return
	}
	os.Unsetenv(envKey)
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "labrun init: decoding config: %v\n", err)
		os.Exit(126)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cfg.Comm, err)
		os.Exit(126)
	}
	os.Exit(0)
}

func run(cfg Config) error {
	// Namespace changes below apply to the calling thread; exec and the
	// program run from it.
	runtime.LockOSThread()
	if cfg.UTSFromPID != 0 {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", cfg.UTSFromPID), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening container UTS namespace: %w", err)
		}
		if err := unix.Setns(fd, unix.CLONE_NEWUTS); err != nil {
			return fmt.Errorf("joining container UTS namespace: %w", err)
		}
		unix.Close(fd)
	}
	if cfg.RemountSys {
		if err := remountSys(); err != nil {
			return err
		}
	}
	for _, b := range cfg.Binds {
		// Equivalent to: mount --bind SOURCE TARGET
		if err := unix.Mount(b.Source, b.Target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting %s on %s: %w", b.Source, b.Target, err)
		}
	}
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("setting hostname: %w", err)
		}
	}
	if cfg.Comm != "" {
		// Writing /proc/self/comm renames the main thread, which is what
		// ps and pgrep read.
		_ = os.WriteFile("/proc/self/comm", []byte(cfg.Comm), 0)
	}
	for _, kv := range cfg.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				os.Setenv(kv[:i], kv[i+1:])
				break
			}
		}
	}
	switch cfg.Mode {
	case ModeExec:
		if len(cfg.Args) == 0 {
			return fmt.Errorf("exec: no command")
		}
		path, err := exec.LookPath(cfg.Args[0])
		if err == nil {
			if cfg.NotifyExec {
				unix.CloseOnExec(3)
			}
			err = syscall.Exec(path, cfg.Args, os.Environ())
		}
		if cfg.NotifyExec {
			if f := os.NewFile(3, "notify"); f != nil {
				f.Write([]byte(err.Error()))
				f.Close()
			}
		}
		return err
	case ModeInit:
		return runInit(cfg)
	default:
		return fmt.Errorf("unknown mode %q", cfg.Mode)
	}
}

// ready reports readiness to the parent on fd 3, once.
func readyFunc() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			f := os.NewFile(3, "ready")
			if f == nil {
				return
			}
			f.Write([]byte{'R'})
			f.Close()
		})
	}
}

func runInit(cfg Config) error {
	ready := readyFunc()
	// SIGTERM from docker stop ends the container like a real init that
	// does not handle signals: it is killed. Ignore SIGINT from terminals.
	signal.Ignore(syscall.SIGINT)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if cfg.Program == "" {
		// Like sh as PID 1, which ignores SIGTERM until docker stop kills
		// it: report the kill (137) without making anyone wait 10s.
		ready()
		<-term
		os.Exit(137)
	}
	p, ok := lookup(cfg.Program)
	if !ok {
		return fmt.Errorf("no program %q in this binary (registered: %v)", cfg.Program, Programs())
	}
	errc := make(chan error, 1)
	go func() { errc <- p(cfg.Args, ready) }()
	select {
	case err := <-errc:
		if err != nil {
			return err
		}
		<-term
	case <-term:
	}
	// Servers (httpd, sshd) stop cleanly on SIGTERM, as Docker's do.
	os.Exit(0)
	return nil
}

// remountSys gives this (already private) mount namespace a /sys that shows
// the current network namespace, as `ip netns exec` does.
func remountSys() error {
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && err != unix.EINVAL {
		return fmt.Errorf("unmounting /sys: %w", err)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		return fmt.Errorf("mounting /sys: %w", err)
	}
	return nil
}
