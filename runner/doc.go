// Package runner is labrun's scenario language and its runner: the commands
// (dockerd, docker, on, reach, ping, http, ssh, env-stdout, capture, packets,
// nat) and conditions that testscript files use to build a lab, start
// containers with real listeners, check what a person would check and
// capture the packets that prove it, with one lab per script, the same
// under `go test` (TestScenarios) and under the labrun command.
//
// It exists so that there is a single implementation of that contract.
// Setup extends any testscript.Params, the way go-internal's
// gotooltest.Setup does; what a caller adds (labrun's -keep and -pcap-dir,
// its record of the labs to close on a signal) goes through Options and
// SetupWith. It is not labrun's command line (flags, the parallel run of
// scenario files, subcommands, signals and exit statuses are cmd/labrun's),
// nor the applications built on it (cmd/labrun/classroom, bench and
// fidelity), which import it and never the other way. Commands are data
// (Cmd values) whose bodies return errors and see the script only through
// Env; one adapter, tsCmd, maps them onto testscript. The reference
// docs/scenarios.md is generated from the commands' own Usage and Summary
// (go generate ./runner) and a test fails when it is stale.
//
// It is not a network library: labs, engines and containers are netkit's,
// probes are package checks', and the images and their programs are
// runner/images'. Nor is it Docker's command line: the docker and dockerd
// commands are thin adapters over runner/dockercli, which parses docker and
// dockerd command lines and prints Docker's outputs and errors.
package runner
