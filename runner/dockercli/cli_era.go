package dockercli

import (
	"net"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// The docker CLI release whose output formats the docker command reproduces
// is a release.Era: 27 (the CLI of 23.0–27.x), 28 or 29. The CLI's formats
// changed apart from the engine's, so a docker command has a CLI era of its
// own (dockerCtx.cli), which the functions below take:
//
//   - PORTS column: 28+ brackets IPv6 addresses ("[::]:8080->80/tcp"),
//     before "::" and the port were concatenated (":::8080->80/tcp");
//   - docker run errors: 28+ print "docker: MSG", a blank line and
//     "Run 'docker run --help' for more information" (withHelp), before
//     "docker: MSG." and "See 'docker run --help'." (reportError);
//   - flag errors: 28+ print the usage line and the same "Run ... for more
//     information" line.
//
// The 20.10 CLI's own formats (unsorted, unbracketed docker port lines) are
// not reproduced: era 27 stands for every CLI before 28.

// cli returns the era of the CLI this docker command emulates: the script
// variable DOCKER_CLI_VERSION when set (release.ParseCLI), else the running
// engine's era, else 27.
func (d *dockerCtx) cli() release.Era {
	if era, ok := release.ParseCLI(d.Getenv("DOCKER_CLI_VERSION")); ok {
		return era
	}
	// A docker command checked without a lab (TestDockerUsage) has none.
	if lab := d.Lab(); lab != nil {
		if eng := lab.EngineOn(d.s.nodeName(d.node)); eng != nil {
			return eng.Options().Era
		}
	}
	return release.Era27
}

// apiVersion returns the engine API version this docker command speaks
// to eng, as the CLI chooses it: $DOCKER_API_VERSION as it is, which the
// engine may refuse (the error is the engine's, CheckAPIVersion); else
// the older of the CLI's own API version (cliAPI) and the engine's, which
// the CLI negotiates (docker/cli v28.2.2 vendors the client's
// NegotiateAPIVersion; observed: CLI 28.2.2 speaks 1.50 to 29.8.1).
func (d *dockerCtx) apiVersion(eng *netkit.Engine) (string, error) {
	if v := d.Getenv("DOCKER_API_VERSION"); v != "" {
		return v, eng.CheckAPIVersion(v)
	}
	server, _ := release.ParseAPIVersion(eng.APIVersion())
	if cli, ok := cliAPI(d.Getenv("DOCKER_CLI_VERSION")); ok && cli < server {
		return "1." + strconv.Itoa(cli), nil
	}
	return eng.APIVersion(), nil
}

// cliAPI is the newest engine API's minor version of a docker CLI release
// ("28.2.2": 50), the API version of the engine of the same release
// (release.Parse): the CLI and the engine vendor the same api/common.go.
// ok is false for a release labrun does not know, whose CLI then speaks
// the engine's version.
func cliAPI(version string) (int, bool) {
	r, ok := release.Parse(version)
	if !ok {
		return 0, false
	}
	return r.API(), true
}

// hostPort joins a host address and port as docker ps's PORTS column does:
// the CLI before 28.0 concatenated them (":::801" for IPv6); 28.0 and later
// bracket IPv6 addresses ("[::]:801").
func hostPort(cli release.Era, ip, port string) string {
	if cli >= release.Era28 {
		return net.JoinHostPort(ip, port)
	}
	return ip + ":" + port
}

// withHelp formats a docker run error as the CLI prints it, without the
// final newline: "docker: MSG." and, with help, "See 'docker run --help'."
// before 28; "docker: MSG", a blank line and "Run 'docker run --help' for
// more information" since (where every run error gets the help line).
func withHelp(cli release.Era, msg, path string, help bool) string {
	if cli >= release.Era28 {
		// withHelp always names "docker run", however the command was
		// typed.
		return "docker: " + msg + "\n\nRun 'docker run --help' for more information"
	}
	msg = "docker: " + strings.TrimSuffix(msg, ".") + "."
	if help {
		msg += "\nSee '" + path + " --help'."
	}
	return msg
}

// flagErrorText formats a flag the CLI rejects (cobra's FlagErrorFunc),
// without the final newline; use is the subcommand's usage line.
func flagErrorText(cli release.Era, err error, path, use string) string {
	if cli >= release.Era28 {
		return err.Error() + "\n\nUsage:  docker " + use + "\n\nRun '" + path + " --help' for more information"
	}
	return err.Error() + "\nSee '" + path + " --help'."
}
