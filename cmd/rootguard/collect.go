package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// collect takes a snapshot of the network namespace rootguard runs in. It
// only reads: every command it runs is a listing.
func collect(ctx context.Context) (snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s := snapshot{}

	// Links and addresses are the heart of the check: without them there is
	// nothing to compare, so a failure here is an error, not a section.
	links, err := output(ctx, "ip", "-o", "link", "show")
	if err != nil {
		return nil, err
	}
	s["links"] = normLinks(links)
	addrs, err := output(ctx, "ip", "-o", "addr", "show")
	if err != nil {
		return nil, err
	}
	s["addresses"] = normAddrs(addrs)

	var routes []string
	for _, family := range []string{"-4", "-6"} {
		out, err := output(ctx, "ip", "-o", family, "route", "show", "table", "main")
		if err != nil {
			routes = append(routes, unavailable(err.Error())...)
			continue
		}
		routes = append(routes, normRoutes(out)...)
	}
	sort.Strings(routes)
	s["routes"] = routes

	for section, cmd := range map[string]string{"iptables": "iptables-save", "ip6tables": "ip6tables-save"} {
		out, err := output(ctx, cmd)
		if err != nil {
			s[section] = unavailable(err.Error())
			continue
		}
		s[section] = normIptables(out)
	}

	var sysctls []string
	for _, key := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"} {
		v, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
		if err != nil {
			sysctls = append(sysctls, key+" "+unavailable(err.Error())[0])
			continue
		}
		sysctls = append(sysctls, key+" = "+strings.TrimSpace(string(v)))
	}
	s["sysctl"] = sysctls

	names, err := namedNetns("/run/netns")
	if err != nil {
		names = unavailable(err.Error())
	}
	s["netns"] = names
	return s, nil
}

// output runs a listing command and returns its standard output. Its error
// names the command and carries the first line of its standard error.
func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", fmt.Errorf("%s not found", name)
		}
		if msg := oneLine(stderr.String()); msg != "" {
			return "", fmt.Errorf("%s: %v: %s", name, err, msg)
		}
		return "", fmt.Errorf("%s: %v", name, err)
	}
	return string(out), nil
}

// namedNetns lists the named network namespaces in dir, as `ip netns list`
// does. A missing dir means none.
func namedNetns(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}
