package dockercli

import (
	"net"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit/firewall"
)

// cliEra is the docker CLI release whose output formats the docker command
// reproduces: 27 (the CLI of 23.0–27.x), 28 or 29. The CLI's formats
// changed apart from the engine's, so it has its own era:
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
type cliEra int

// cliEraOf maps a docker CLI version ("28.2.2", "29") to its era; ok is
// false for a version that is not a number.
func cliEraOf(version string) (cliEra, bool) {
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0, false
	}
	switch {
	case n >= 29:
		return 29, true
	case n == 28:
		return 28, true
	}
	return 27, true
}

// cli returns the era of the CLI this docker command emulates: the script
// variable DOCKER_CLI_VERSION when set, else the running engine's era, else
// 27.
func (d *dockerCtx) cli() cliEra {
	if era, ok := cliEraOf(d.Getenv("DOCKER_CLI_VERSION")); ok {
		return era
	}
	// A docker command checked without a lab (TestDockerUsage) has none.
	if lab := d.Lab(); lab != nil {
		if eng := lab.Engine(); eng != nil {
			switch eng.Options().Era {
			case firewall.Era28:
				return 28
			case firewall.Era29:
				return 29
			}
		}
	}
	return 27
}

// hostPort joins a host address and port as docker ps's PORTS column does:
// the CLI before 28.0 concatenated them (":::801" for IPv6); 28.0 and later
// bracket IPv6 addresses ("[::]:801").
func (c cliEra) hostPort(ip, port string) string {
	if c >= 28 {
		return net.JoinHostPort(ip, port)
	}
	return ip + ":" + port
}

// withHelp formats a docker run error as the CLI prints it, without the
// final newline: "docker: MSG." and, with help, "See 'docker run --help'."
// before 28; "docker: MSG", a blank line and "Run 'docker run --help' for
// more information" since (where every run error gets the help line).
func (c cliEra) withHelp(msg, path string, help bool) string {
	if c >= 28 {
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

// flagError formats a flag the CLI rejects (cobra's FlagErrorFunc), without
// the final newline; use is the subcommand's usage line.
func (c cliEra) flagError(err error, path, use string) string {
	if c >= 28 {
		return err.Error() + "\n\nUsage:  docker " + use + "\n\nRun '" + path + " --help' for more information"
	}
	return err.Error() + "\nSee '" + path + " --help'."
}
