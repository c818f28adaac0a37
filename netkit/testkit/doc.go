// Package testkit is labrun's one test kit: the privilege gates, fresh
// network namespaces, namespace and lab snapshots, process lists and line
// diffs that the tests of netkit, checks, runner and the commands share. It
// exists so that each of those is written once, with one skip message and
// one diff format, instead of a copy in every test package.
//
// It is not part of labrun's programs or libraries: only tests import it.
// It imports the standard library, testify, go-internal and netkit's leaf
// packages (netns, prereq, initproc) only, never the netkit root package, runner,
// checks or cmd: the internal tests of netkit's packages (package netkit,
// netkit/firewall) may then use it without an import cycle; only netns's
// own internal tests cannot. So it has no NewLab: a test that needs a whole
// lab gates with RequireLab and makes it with netkit.NewLab, and describes
// it (an engine, its networks and containers) from its nodes' namespaces
// (NSState) plus lines of its own; the kit gives the parts and the
// comparison.
//
// A gate skips, never fails: a machine that cannot make network namespaces
// (no root, no CAP_SYS_ADMIN, a seccomp profile) runs the rest of the tests.
package testkit
