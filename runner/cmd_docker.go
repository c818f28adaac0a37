package runner

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/labrun/labrun/runner/compose"
	"github.com/labrun/labrun/runner/dockercli"
)

// The docker and dockerd commands are thin adapters over package
// dockercli: the script keeps one dockercli.Session (its lab, and whether
// the last dockerd failed), and each command line runs on it with the
// command's output buffers and the script's variables.

var dockerCmd = Cmd{
	Name:  "docker",
	Usage: "SUBCOMMAND [ARGS...]",
	Summary: "Run a docker CLI command against the lab's engine, with Docker's output and error formats " +
		"(the docker CLI of the Docker 27 era). A failure prints Docker's message on stderr, as " +
		"`docker: Error response from daemon: ...` for run, and fails with Docker's exit status. " +
		"In a world of several Docker hosts, `docker -H NODE ...` (or `env DOCKER_HOST=NODE`; also " +
		"`tcp://NODE:2375`, `ssh://root@NODE`) drives the engine of NODE, as the docker CLI picks a daemon; " +
		"without it, the world's first Docker host's.",
	Detail:    dockerDetail(),
	Negatable: true,
	Run:       runDocker,
}

var dockerdCmd = Cmd{
	Name:  "dockerd",
	Usage: "[-H NODE] [--compat=20.10|27|28|29] [--firewall-backend=iptables|nftables] [-b BRIDGE] [--bip CIDR] [--fixed-cidr CIDR] [--default-gateway IP] [--icc=false] [--iptables=false] [--ip-forward=false] [--ip-masq=false] [--ip IP] [--mtu N] [--userland-proxy=false] [--ipv6 [--fixed-cidr-v6 CIDR]] [--ip6tables=false]",
	Summary: "(Re)start the lab's Docker engine on `host` (the world's first Docker host; `-H NODE` another) with dockerd's networking flags, " +
		"after those the world file gives the node (`dockerd:`). " +
		"A running engine stops first, as when dockerd restarts: its containers stop and stay; user-defined networks stay. " +
		"The first `docker` command starts the engine with no flags if the scenario did not; after a dockerd " +
		"that failed, the engine stays stopped and docker commands find no daemon until a dockerd succeeds.",
	Detail: "Flags take dockerd's forms: `--bip=192.168.1.1/24` or `--bip 192.168.1.1/24`, " +
		"booleans only as `--icc=false`. A bad flag or a refused combination prints dockerd's own message " +
		"(`unknown flag: --foo`, `failed to start daemon: You specified -b & --bip, ...`) on stderr and fails.\n\n" +
		"`--compat` is labrun's own flag: the Docker release whose behaviour the engine and the `docker` " +
		"command reproduce (default 27). `20.10` and `23`–`27` share era 27's rules (20.10–27), `28` is " +
		"28.3–28.5's rules, `29` is 29.x's; a full version (`28.2.2`, `20.10.24+dfsg1`) picks the release's " +
		"engine API version and with it the JSON shapes of `docker inspect`. The era also sets container MACs " +
		"(02:42 and the IPv4 address before 28, random since), error texts, and the docker CLI's formats " +
		"(`[::]:8080->80/tcp` in PORTS and `Run 'docker run --help' for more information` from 28). " +
		"The script variable `DOCKER_CLI_VERSION` (e.g. `env DOCKER_CLI_VERSION=28.2.2`) sets the CLI's " +
		"release apart from the engine's, as on a host with Debian's docker.io engine and Docker's CLI; " +
		"like the real CLI, it speaks the older of its own API version and the engine's, and the engine " +
		"answers `docker inspect` in that version's shape. `DOCKER_API_VERSION` (e.g. `env " +
		"DOCKER_API_VERSION=1.41`) names the version instead, as with Docker: the engine refuses one " +
		"outside its range (`client version 1.53 is too new. Maximum supported API version is 1.52`). " +
		"`--firewall-backend=nftables` (29 only, as with Docker) programs the nftables tables `ip docker-bridges` " +
		"and `ip6 docker-bridges` over netlink instead of iptables; the host must forward IPv4 (or dockerd " +
		"refuses to start, as 29 does), unless `--ip-forward=false`.\n\n" +
		"`--ipv6` gives the default bridge IPv6: `--fixed-cidr-v6`'s subnet (required before 28, whose containers " +
		"get MAC-derived addresses), or from 28 a /64 of the engine's ULA pool. `--ip6tables` (on by default from 27) " +
		"writes the ip6tables rules of the networks with IPv6 (`docker network create --ipv6`).",
	Negatable: true,
	Run:       runDockerd,
}

// docker returns the script's docker CLI session, made on first use; it
// makes the lab when a command needs an engine.
func (e *Env) docker() *dockercli.Session {
	if e.st.docker == nil {
		e.st.docker = &dockercli.Session{Lab: e.st.lab, OpenLab: e.Lab, Plugins: map[string]dockercli.Plugin{"compose": compose.Plugin}}
	}
	return e.st.docker
}

// dockerIO is what a docker or dockerd command line sees of the script.
func (e *Env) dockerIO() dockercli.IO {
	return dockercli.IO{Stdout: e.Stdout(), Stderr: e.Stderr(), Getenv: e.Getenv, Stdin: e.st.stdin, Dir: e.Dir(), Environ: e.Environ}
}

func runDocker(e *Env, args []string) error {
	if len(args) == 0 {
		return ErrUsage
	}
	err := e.docker().Docker(e.Context(), args, e.dockerIO())
	if errors.Is(err, dockercli.ErrNotImplemented) {
		return usagef("%v", err)
	}
	return err
}

func runDockerd(e *Env, args []string) error {
	return e.docker().Dockerd(args, e.dockerIO())
}

func dockerDetail() string {
	var b strings.Builder
	b.WriteString("Subcommands (Docker's usage line and description; labrun's notes after them):\n\n")
	subs := dockercli.Subcommands()
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	for _, s := range subs {
		fmt.Fprintf(&b, "- `docker %s`: %s.", s.Use, s.Short)
		if len(s.Aliases) > 0 {
			fmt.Fprintf(&b, " Also `docker %s`.", strings.Join(s.Aliases, "`, `docker "))
		}
		if s.Note != "" {
			b.WriteString(" " + s.Note)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n`docker compose` is Docker Compose " + compose.Version + " (the docker CLI plugin), on the lab's engine: " +
		"`docker compose [-f FILE]... [-p NAME] [--project-directory DIR] [--env-file FILE] [--profile NAME] COMMAND`. " +
		"Compose files are read by compose-go, Compose's own library, with its interpolation, validation and errors; " +
		"relative paths and the default files (`compose.yaml`, `docker-compose.yml`, ...) are the script's directory's. " +
		"The project's network is `<project>_default`, its containers `<project>-<service>-<n>`, on each network with the " +
		"container's and the service's names as aliases and Compose's labels (docker inspect shows them); its progress " +
		"lines are on stderr, in Compose's plain form (` Container demo-web-1 Started `). Services run the built-in " +
		"images; another image fails as a pull does, and `build:` fails where the engine would build. Volumes, " +
		"secrets, healthchecks and restart policies are read but not acted on. Pass `-p`: the default project name is " +
		"the directory's, $WORK's in a scenario. Commands:\n\n")
	for _, s := range compose.Subcommands() {
		fmt.Fprintf(&b, "- `docker compose %s`: %s. %s\n", s.Use, s.Short, s.Note)
	}
	return b.String()
}
