// Package images is labrun's built-in image catalogue and the real programs
// those images run. There is no registry and no image store: an image is a
// name, the metadata that docker images, docker ps and docker inspect show,
// the ports it EXPOSEs, and the name of an initproc program that becomes the
// container's main process.
//
// The programs (httpd, sshd, web-ssh) are registered with initproc in this
// package's init function, so any binary that imports it and calls
// initproc.MaybeRun can run them inside a container's namespaces. They are
// real servers on real sockets: an HTTP server whose page names the
// container, and an SSH server that the OpenSSH client logs into as root with
// password "labrun".
//
// It exists so that netkit stays ignorant of what runs in a container, and the
// runner can resolve `docker run IMAGE` to a program without either of them
// knowing the other's internals. It is not an image builder, a layer store or
// a process supervisor.
package images

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/labrun/labrun/netkit/ports"
)

// Image is one entry of the catalogue.
type Image struct {
	// Name is the repository name shown by docker images (httpd).
	Name string
	// Tag is the image tag; always "latest".
	Tag string
	// ID is the 12-hex-digit short image ID; stable across runs.
	ID string
	// Created is the image's creation time, RFC 3339 in UTC. docker images
	// shows it relative to now ("2 weeks ago"); docker inspect shows it as
	// is.
	Created string
	// Size is the size as docker images shows it (148MB).
	Size string
	// Expose lists the image's EXPOSE ports, ascending.
	Expose []ports.Port
	// Program is the initproc program run as the main process; "" means a
	// process that only waits.
	Program string
	// Comm is the main process's name, as ps and pgrep show it.
	Comm string
	// Command is the COMMAND column of docker ps, quotes included, as in
	// `"httpd-foreground"`.
	Command string
}

// Ref returns the image reference NAME:TAG.
func (im Image) Ref() string { return im.Name + ":" + im.Tag }

// catalogue holds the images, newest first (the order of docker images).
var catalogue = []Image{
	{
		Name:    "web-ssh",
		Created: "2024-11-05T09:12:44Z",
		Size:    "236MB",
		Expose:  tcp(22, 80, 443),
		Program: ProgramWebSSH,
		Comm:    "sshd",
		Command: `"/usr/sbin/sshd -D"`,
	},
	{
		Name:    "httpd",
		Created: "2024-10-16T21:03:51Z",
		Size:    "148MB",
		Expose:  tcp(80),
		Program: ProgramHTTPD,
		Comm:    "httpd",
		Command: `"httpd-foreground"`,
	},
	{
		Name:    "sshd",
		Created: "2024-09-27T14:40:02Z",
		Size:    "227MB",
		Expose:  tcp(22),
		Program: ProgramSSHD,
		Comm:    "sshd",
		Command: `"/usr/sbin/sshd -D"`,
	},
	{
		Name:    "busybox",
		Created: "2024-09-26T21:31:42Z",
		Size:    "4.26MB",
		Comm:    "sh",
		Command: `"sh"`,
	},
}

func init() {
	for i := range catalogue {
		im := &catalogue[i]
		im.Tag = "latest"
		im.ID = shortID(im.Ref())
	}
	sort.SliceStable(catalogue, func(i, j int) bool {
		return catalogue[i].Created > catalogue[j].Created
	})
}

// shortID derives a stable 12-hex-digit ID from the reference, so that IDs
// never change between runs or releases unless an image is renamed.
func shortID(ref string) string {
	sum := sha256.Sum256([]byte("labrun image " + ref))
	return hex.EncodeToString(sum[:])[:12]
}

func tcp(nums ...uint16) []ports.Port {
	ps := make([]ports.Port, len(nums))
	for i, n := range nums {
		ps[i] = ports.Port{Num: n, Proto: ports.TCP}
	}
	return ps
}

// Lookup finds an image by reference: NAME or NAME:latest. Any other tag, or
// an unknown name, reports false.
func Lookup(ref string) (Image, bool) {
	name, tag, hasTag := strings.Cut(ref, ":")
	if hasTag && tag != "latest" {
		return Image{}, false
	}
	for _, im := range catalogue {
		if im.Name == name {
			return clone(im), true
		}
	}
	return Image{}, false
}

// All returns every image, in the order docker images lists them (newest
// first).
func All() []Image {
	out := make([]Image, len(catalogue))
	for i, im := range catalogue {
		out[i] = clone(im)
	}
	return out
}

// clone copies im so that callers cannot modify the catalogue through the
// Expose slice.
func clone(im Image) Image {
	if im.Expose != nil {
		im.Expose = append([]ports.Port(nil), im.Expose...)
	}
	return im
}
