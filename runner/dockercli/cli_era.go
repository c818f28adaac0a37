package dockercli

import (
	"net"
	"strings"

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
		if eng := lab.Engine(); eng != nil {
			return eng.Options().Era
		}
	}
	return release.Era27
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
