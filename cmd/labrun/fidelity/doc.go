// Package fidelity compares labrun with a real Docker Engine: the same
// docker command lines run against the engine of the machine (through the
// docker CLI binary) and against a fresh labrun lab whose engine reproduces
// the engine's release (dockerd --compat set to its version, the docker
// command set to the CLI's), and their state and output are compared after
// normalising what must differ: names, IDs, addresses (each network's
// subnet mapped onto labrun's), MAC addresses derived from them, ephemeral
// ports, times and counters.
//
// It exists because labrun's claim is to show exactly what Docker does, and
// the only proof of that is Docker itself. The real engine is an oracle for
// these tests only: labrun never uses it. The tests create containers,
// networks and one image of their own, under a random name prefix, remove
// them all even on failure, read the root namespace's iptables rules and
// change nothing else, and send no traffic.
//
// What is compared, per case ([Cases]): every step's stdout, stderr and exit
// status; docker port and docker inspect's NetworkSettings of each of the
// case's containers; docker ps's PORTS column; docker network inspect of the
// default bridge and of each network the case created; and iptables-save of
// the engine's chains, limited to rules that name the case's bridges,
// subnets or containers. TestFidelity prints [Report]: per case "same" or
// "different" with the diffs ("-" Docker's lines, "+" labrun's), and last
// "fidelity: N of M cases identical to Docker VERSION". `make fidelity` runs
// it; docs/fidelity.md records the last result.
package fidelity
