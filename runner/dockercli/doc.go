// Package dockercli is Docker's command line as the docker CLI and dockerd
// parse and print it, per era, on top of a netkit engine: flag parsing with
// pflag's rules and texts (FlagSet), docker's subcommands (run, ps, port,
// inspect, exec, stop, start, wait, rm, top, images, network ...) and dockerd's
// networking flags, and their output and error messages in the formats of
// the Docker release the engine reproduces (docker ps's table and PORTS
// column, docker port, docker inspect's JSON and templates, `docker: Error
// response from daemon: ...`, `failed to start daemon: ...`), with the exit
// statuses Docker returns.
//
// It exists so that a scenario's docker commands and the docker commands
// typed in a live lab's shell are one implementation: runner's docker and
// dockerd scenario commands are thin adapters over a Session, and runner.Exec
// runs the same Session for the classroom shell. The formats are pure
// functions tested with golden strings; the scenario suite under `go test
// ./runner` runs the commands against real labs.
//
// It is not the network: labs, engines, containers, IPAM, ports and rules
// are netkit's, which already speaks Docker's daemon-side error texts; the
// images and their programs are runner/images'. Nor is it the scenario
// language: commands, conditions, usage errors and testscript are runner's
// (CompatCondition and FirewallCondition only answer, from dockerd's flags,
// what the [compat:] and [firewall:] conditions ask).
// The Docker release it reproduces is netkit/release's: dockerd's --compat
// is a release.Release (release.Parse), and the docker CLI, whose formats
// changed apart from the engine's, follows a release.Era of its own
// (release.ParseCLI of $DOCKER_CLI_VERSION, else the engine's era).
package dockercli
