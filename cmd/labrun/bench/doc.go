// Package bench is labrun's benchmark command (`labrun bench`): it builds
// the same lab of N busybox containers on docker0, each with a published
// port, four ways in one run on one machine — with labrun's engine
// (netkit), with a shell script of the ip and iptables commands a course
// would show, with the CNI reference plugins (bridge, host-local, portmap),
// and with a real Docker Engine (package oracle; small N only, and only
// where `make oracle` built one) — and the floor under them all: the same
// containers' namespaces, veths, addresses and routes made with netlink
// requests alone, without NAT or a process. It prints what each costs per
// container, up and down, and in memory and CPU time.
//
// It exists so that labrun's speed claims are measured, side by side with
// the tools they are compared to, by a command anyone can rerun; the numbers
// are never asserted in tests (docs/performance.md holds a measured table).
//
// Every method works inside scratch network namespaces that the benchmark
// makes and drops: nothing is created in the root network namespace. The
// shell method's named namespaces (ip netns add) live in a private mount
// namespace on a private /run/netns, so they are invisible to the host and
// vanish with the script's shell, and carry a unique per-run prefix. The CNI
// method keeps host-local's state in a per-run temporary directory and
// installs the plugins with `go install` into a cache directory of its own.
// The docker method's engine runs in namespaces of its own that die with
// the benchmark (package oracle), a fresh one for each N.
//
// It is not a general benchmarking framework, and not a load test: it times
// set-up and tear-down of container networking, nothing else.
package bench
