// Package classroom turns labrun's scenarios into a classroom: live labs to
// explore by hand, exercises with hints, grading, and pictures of a lab.
//
//   - Live labs. `labrun up [FILE]` builds a lab (the classroom world, plus
//     what FILE sets up) owned by a keeper: labrun re-executed in the
//     background (a session of its own), which holds the lab's namespaces
//     by descriptor, is the parent of all its processes (they die with it by
//     their parent-death signal) and serves a unix socket under
//     /run/labrun/LAB/. `labrun shell NODE` asks the keeper for a shell: the
//     keeper starts it inside the node (its network namespace, a /sys of it,
//     a PID namespace of its own) on a new pseudo-terminal and passes the
//     master over the socket (SCM_RIGHTS); the client connects its terminal
//     to it. In the shell, `docker` and `dockerd` are scripts that forward
//     the command line to the keeper, which runs it with runner's docker
//     implementation (runner.Exec): the same commands and outputs as in
//     scenarios. `labrun down` or the keeper's death, however it dies,
//     removes the lab; nothing is pinned, so a killed keeper leaves only its
//     directory of files, which `labrun ls`, `down` and `up` remove.
//   - Exercises. An exercise is a scenario file with a task, a set-up and
//     checks with hints (see Exercise). `labrun exercise start` brings its
//     lab up; `labrun exercise check` runs each check as a script of its own
//     against the live lab and prints PASS or FAIL, with the hint and the
//     evidence: the failing command and its output.
//   - Grading. `labrun grade DIR` runs each student's answers (scenario
//     fragments, DIR/STUDENT/EXERCISE.txt) in labs of their own, in
//     parallel, and writes a summary, JSON and JUnit XML.
//   - Pictures. `labrun diagram` reads a lab's topology from the kernel
//     (Collect) and draws it as Mermaid or as a hand-written SVG.
//
// It exists so that people can do by hand what scenarios check, on the same
// labs and with the same docker commands, and so that teachers can check
// that work with the same scenario language. It is not a new network layer
// (labs are netkit's, commands runner's), and not a multi-user service: live
// labs belong to root on one machine. Its command lines are the XxxMain
// functions (UpMain, ShellMain, ...), which labrun's subcommand table
// (cmd/labrun) calls.
package classroom
