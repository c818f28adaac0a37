// Package etcfiles writes the files Docker puts in a container's /etc —
// resolv.conf, hosts and hostname — byte for byte as each Docker release
// writes them, and the environment a legacy --link gives. It also parses
// --add-host as the docker CLI does and turns the API's "name:ip" forms
// into hosts lines, host-gateway included.
//
// It is pure: it takes the host's files and the container's settings as
// values and returns bytes, with no syscalls and no engine state, so that
// every release's format is unit-tested without privileges. The release
// differences are yes/no questions of netkit/release.
//
// It is not the place that reads the host's /etc/resolv.conf (or picks
// /run/systemd/resolve/resolv.conf), writes or bind-mounts the files,
// keeps them up to date when a container connects, disconnects or a linked
// container restarts, or answers DNS queries: netkit does that with what
// this package returns. The embedded resolver's upstreams and its ndots
// behaviour are reported here only because Docker decides them while it
// writes resolv.conf.
package etcfiles
