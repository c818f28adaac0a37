package etcfiles

import (
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

// LinkEnv is the environment a legacy --link CHILD:ALIAS gives the parent
// container parentName ("/c" or "c") (moby/moby v28.5.2
// daemon/links/links.go ToEnv, v27.5.1 before 28): for the child's exposed
// ports, sorted tcp first, ALIAS_PORT (the first port) and each port's
// ALIAS_PORT_<n>_<PROTO>[_ADDR|_PORT|_PROTO], _START and _END variables for
// runs of consecutive ports; ALIAS_NAME=/c/alias; and ALIAS_ENV_<var> for
// each of the child's variables but HOME and PATH. ALIAS is the alias upper
// case with "-" as "_". Nil for the releases that set none (29+).
//
// Equivalent to: docker exec c env | grep ^ALIAS_
func LinkEnv(r release.Release, alias, parentName string, childAddr netip.Addr, exposed []ports.Port, childEnv []string) []string {
	if !r.LinkEnvVars() {
		return nil
	}
	name := path.Join("/", parentName, alias)
	l := link{
		alias: strings.ReplaceAll(strings.ToUpper(path.Base(name)), "-", "_"),
		ip:    childAddr.String(),
	}
	for _, p := range exposed { // a set in Docker: Config.ExposedPorts
		if !slices.Contains(l.ports, p) {
			l.ports = append(l.ports, p)
		}
	}
	var env []string
	if r.LinkEnvPortOrder() {
		env = l.portEnv()
	} else {
		env = l.portEnv27()
	}
	env = append(env, l.alias+"_NAME="+name)
	for _, v := range childEnv {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "HOME" || k == "PATH" {
			continue
		}
		env = append(env, l.alias+"_ENV_"+k+"="+val)
	}
	return env
}

type link struct {
	alias, ip string
	ports     []ports.Port
}

func (l link) url(p ports.Port) string {
	return string(p.Proto) + "://" + l.ip + ":" + num(p)
}

func (l link) prefix(p ports.Port) string {
	return l.alias + "_PORT_" + num(p) + "_" + strings.ToUpper(string(p.Proto))
}

func num(p ports.Port) string { return strconv.Itoa(int(p.Num)) }

// each is the four variables of one port.
func (l link) each(p ports.Port) []string {
	pre := l.prefix(p)
	return []string{pre + "=" + l.url(p), pre + "_ADDR=" + l.ip, pre + "_PORT=" + num(p), pre + "_PROTO=" + string(p.Proto)}
}

// portEnv is 28's: ports sorted by withTCPPriority, each port's variables,
// and after a run of consecutive ports of one protocol its _START and
// _END variables (moby/moby v28.5.2 daemon/links/links.go ToEnv).
func (l link) portEnv() []string {
	slices.SortStableFunc(l.ports, func(a, b ports.Port) int {
		switch {
		case a.Proto == b.Proto:
			return int(a.Num) - int(b.Num)
		case a.Proto == ports.TCP:
			return -1
		case b.Proto == ports.TCP:
			return 1
		}
		return strings.Compare(strings.ToLower(string(a.Proto)), strings.ToLower(string(b.Proto)))
	})
	var env []string
	var start, end ports.Port
	for i, p := range l.ports {
		if i == 0 {
			start, end = p, p
			env = append(env, l.alias+"_PORT="+l.url(p))
		}
		env = append(env, l.each(p)...)
		if int(p.Num) == int(end.Num)+1 && strings.EqualFold(string(p.Proto), string(start.Proto)) {
			end = p
			if i < len(l.ports)-1 {
				continue
			}
		}
		if end != start {
			pre := l.prefix(start)
			env = append(env, pre+"_START="+l.url(start), pre+"_PORT_START="+num(start),
				pre+"_END="+l.url(end), pre+"_PORT_END="+num(end))
		}
		start, end = p, p
	}
	return env
}

// portEnv27 is 20.10's to 27's: ports sorted by number (tcp first for one
// number), ALIAS_PORT, the variables of every run of consecutive numbers
// (whatever their protocols), then every port's (moby/moby v27.5.1 and
// v20.10.24 daemon/links/links.go ToEnv, nextContiguous).
func (l link) portEnv27() []string {
	less := func(a, b ports.Port) bool {
		return a.Num < b.Num || (a.Num == b.Num && strings.ToLower(string(a.Proto)) == "tcp")
	}
	slices.SortStableFunc(l.ports, func(a, b ports.Port) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	var env []string
	if len(l.ports) > 0 {
		env = append(env, l.alias+"_PORT="+l.url(l.ports[0]))
	}
	for i := 0; i < len(l.ports); {
		p := l.ports[i]
		j := nextContiguous(l.ports, int(p.Num), i)
		if j <= i+1 {
			i++
			continue
		}
		pre, q := l.prefix(p), l.ports[j]
		qpre := l.alias + "_PORT_" + num(p) + "_" + strings.ToUpper(string(q.Proto))
		env = append(env, pre+"_START="+l.url(p), pre+"_ADDR="+l.ip, pre+"_PROTO="+string(p.Proto),
			pre+"_PORT_START="+num(p), qpre+"_END="+l.url(q), qpre+"_PORT_END="+num(q))
		i = j + 1
	}
	for _, p := range l.ports {
		env = append(env, l.each(p)...)
	}
	return env
}

// nextContiguous is the index of the last port of the run of consecutive
// numbers that starts at index (moby/moby v27.5.1 daemon/links/links.go).
func nextContiguous(ps []ports.Port, value, index int) int {
	if index+1 == len(ps) {
		return index
	}
	for i := index + 1; i < len(ps); i++ {
		if int(ps[i].Num) > value+1 {
			return i - 1
		}
		value++
	}
	return len(ps) - 1
}
