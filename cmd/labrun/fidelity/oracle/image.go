package oracle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ImageTar is a root file system with busybox (Debian's busybox-static) as
// /bin/busybox, and /bin/sh and the applets the cases run (applets) as
// links to it, as busybox's image has them: a tar for docker import, the
// image of the fidelity cases and the benchmarks, without a registry.
func ImageTar() ([]byte, error) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return nil, fmt.Errorf("making the image: no busybox (apt-get install busybox-static): %w", err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return nil, fmt.Errorf("making the image: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdrs := []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data))},
		{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
	}
	for _, a := range applets {
		hdrs = append(hdrs, &tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777})
	}
	for _, h := range hdrs {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(data)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// applets are the busybox applets the fidelity cases run.
var applets = []string{"cat", "env", "grep", "hostname", "nslookup", "ping", "sleep", "sort", "wget"}

// Import imports the image ImageTar makes as name, with Dockerfile
// instructions (`EXPOSE 80/tcp`), through docker.
//
// Equivalent to: tar -c ROOTFS | docker import -c 'EXPOSE 80/tcp' - NAME
func Import(docker func(args ...string) *exec.Cmd, name string, changes ...string) error {
	rootfs, err := ImageTar()
	if err != nil {
		return err
	}
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "-c", c)
	}
	cmd := docker(append(args, "-", name)...)
	cmd.Stdin = bytes.NewReader(rootfs)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker import %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Get reads path (/containers/NAME/json) from the engine's API at its own
// version, which the docker CLI, older, does not ask for, and returns the
// body indented as the CLI indents it.
func (e *Engine) Get(path string) (string, error) {
	resp, err := client(e.Socket, 10*time.Second).Get("http://engine" + path)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	var out bytes.Buffer
	if json.Indent(&out, body, "", "    ") != nil {
		return string(body), nil
	}
	return out.String(), nil
}
