package etcfiles

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Docker 20.10 (and, nearly so, up to 25) reads and filters resolv.conf
// with these regular expressions (moby/moby v20.10.24
// vendor/github.com/docker/libnetwork/resolvconf/resolvconf.go and
// resolvconf/dns/resolvconf.go). They are kept as they are, quirks
// included: "nameserver" needs no space after it, a localhost line's
// match swallows the blank space after it, a comment is cut at any '#'.
const (
	ipv4NumBlock  = `(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)`
	ipv4Address   = `(` + ipv4NumBlock + `\.){3}` + ipv4NumBlock
	ipv6Address   = `([0-9A-Fa-f]{0,4}:){2,7}([0-9A-Fa-f]{0,4})(%\w+)?`
	ipLocalhost   = `((127\.([0-9]{1,3}\.){2}[0-9]{1,3})|(::1)$)`
	ipv4Localhost = `(127\.([0-9]{1,3}\.){2}[0-9]{1,3})`
)

var (
	localhostNSRegexp = regexp.MustCompile(`(?m)^nameserver\s+` + ipLocalhost + `\s*\n*`)
	nsIPv6Regexp      = regexp.MustCompile(`(?m)^nameserver\s+` + ipv6Address + `\s*\n*`)
	nsRegexp          = regexp.MustCompile(`^\s*nameserver\s*((` + ipv4Address + `)|(` + ipv6Address + `))\s*$`)
	nsIPv6Regexpmatch = regexp.MustCompile(`^\s*nameserver\s*((` + ipv6Address + `))\s*$`)
	nsIPv4Regexpmatch = regexp.MustCompile(`^\s*nameserver\s*((` + ipv4Address + `))\s*$`)
	searchRegexp      = regexp.MustCompile(`^\s*search\s*(([^\s]+\s*)*)$`)
	optionsRegexp     = regexp.MustCompile(`^\s*options\s*(([^\s]+\s*)*)$`)
	localhostIPv4     = regexp.MustCompile(ipv4Localhost)
)

// The kinds of nameserver getNameservers looks for (moby/moby v20.10.24
// vendor/github.com/docker/libnetwork/types IP, IPv4, IPv6).
type nsKind int

const (
	nsAny nsKind = iota
	nsIPv4
	nsIPv6
)

// resolvConfLegacy writes resolv.conf as Docker 20.10 does (moby/moby
// v20.10.24 vendor/github.com/docker/libnetwork/sandbox_dns_unix.go
// setupDNS, updateDNS and rebuildDNS), for every release before 26.0. No
// comments are added. Without --dns, --dns-search or --dns-option, the
// default bridge's file is the host's with its loopback nameservers (and,
// without IPv6, its IPv6 ones) cut out, the rest copied as it is; when no
// nameserver is left, 8.8.8.8 and 8.8.4.4 are appended after a blank line.
// With one of them, the file is rebuilt: search, nameserver, options. The
// embedded resolver's file is rebuilt likewise from that file: 127.0.0.11
// and the file's IPv6 nameservers, its search and options and ndots:0.
//
// Docker 23 to 25 differ in details not reproduced: a --dns-search or
// --dns-option without --dns queries the host's loopback nameservers from
// the host (moby/moby v25.0.0 libnetwork/sandbox_dns_unix.go setupDNS).
func resolvConfLegacy(o ResolvOptions) Resolv {
	var dns []string
	for _, a := range o.DNS {
		dns = append(dns, a.String())
	}
	overrides := len(dns) > 0 || len(o.DNSSearch) > 0 || len(o.DNSOptions) > 0
	if o.Resolver == HostNetwork {
		if !overrides { // a copy of the host's file
			return Resolv{File: append([]byte{}, o.Host...)}
		}
		return Resolv{File: buildLegacy(o, dns)}
	}

	// setupDNS, at the sandbox's creation, then updateDNS when the
	// endpoint joins.
	var file []byte
	var ext []Upstream
	if overrides {
		file = buildLegacy(o, dns)
		// --dns 127.0.0.x is the container's own loopback.
		ext = extResolvers(file, false)
	} else {
		// The host's 127.0.0.x nameservers are queried from the host.
		ext = extResolvers(o.Host, true)
		file = filterResolvDNS(o.Host, true)
		file = filterResolvDNS(file, o.IPv6)
	}
	if o.Resolver != Internal {
		return Resolv{File: file}
	}

	// rebuildDNS, when the embedded resolver starts.
	if len(ext) == 0 {
		ext = extResolvers(file, false)
	}
	ns := append([]string{resolverAddr.String()}, getNameservers(file, nsIPv6)...)
	search, options := getSearchDomains(file), getOptions(file)
	ndotsSet, ok := userNdots(options)
	if !ok { // "invalid ndots option": the resolver is not started
		return Resolv{File: file, NoResolver: true}
	}
	if !ndotsSet {
		options = append(options, "ndots:0")
	}
	var ups []Upstream
	for _, u := range ext[:min(len(ext), maxUpstreams)] {
		if u.Addr.IsValid() { // the resolver cannot dial "010.0.0.1"
			ups = append(ups, u)
		}
	}
	return Resolv{File: build(ns, search, options), Upstreams: ups, UserNdots: ndotsSet}
}

// buildLegacy is the file of --dns, --dns-search or --dns-option: each
// missing one taken from the host file (setupDNS).
func buildLegacy(o ResolvOptions, dns []string) []byte {
	search, options := o.DNSSearch, o.DNSOptions
	if len(dns) == 0 {
		dns = getNameservers(o.Host, nsAny)
	}
	if len(search) == 0 {
		search = getSearchDomains(o.Host)
	}
	if len(options) == 0 {
		options = getOptions(o.Host)
	}
	return build(dns, search, options)
}

// userNdots reads the ndots option as rebuildDNS does: the first option
// whose text contains "ndots" must be "ndots:N" with N ≥ 0 (ok false
// otherwise); set reports whether there is one.
func userNdots(options []string) (set, ok bool) {
	for _, opt := range options {
		if !strings.Contains(opt, "ndots") {
			continue
		}
		parts := strings.Split(opt, ":")
		if len(parts) != 2 {
			return false, false
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 0 {
			return false, false
		}
		return true, true
	}
	return false, true
}

// extResolvers is sb.setExternalResolvers: the IPv4 nameservers of
// content, host-side when checkLoopback and one is 127.x.
func extResolvers(content []byte, checkLoopback bool) []Upstream {
	var ext []Upstream
	for _, ip := range getNameservers(content, nsIPv4) {
		a, _ := netip.ParseAddr(ip)
		ext = append(ext, Upstream{Addr: a, HostNS: checkLoopback && localhostIPv4.MatchString(ip)})
	}
	return ext
}

// filterResolvDNS is resolvconf.FilterResolvDNS: loopback nameservers
// removed, IPv6 ones too without IPv6, and the defaults appended when no
// nameserver is left.
func filterResolvDNS(content []byte, ipv6 bool) []byte {
	cleaned := localhostNSRegexp.ReplaceAll(content, nil)
	if !ipv6 {
		cleaned = nsIPv6Regexp.ReplaceAll(cleaned, nil)
	}
	if len(getNameservers(cleaned, nsAny)) == 0 {
		dns := []string{"nameserver 8.8.8.8", "nameserver 8.8.4.4"}
		if ipv6 {
			dns = append(dns, "nameserver 2001:4860:4860::8888", "nameserver 2001:4860:4860::8844")
		}
		cleaned = append(cleaned, "\n"+strings.Join(dns, "\n")...)
	}
	return append([]byte{}, cleaned...)
}

// getLines splits content into lines, each cut at its first '#'.
func getLines(content []byte) [][]byte {
	lines := bytes.Split(content, []byte("\n"))
	for i, l := range lines {
		if j := bytes.IndexByte(l, '#'); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return lines
}

// getNameservers is resolvconf.GetNameservers.
func getNameservers(content []byte, kind nsKind) []string {
	re := map[nsKind]*regexp.Regexp{nsAny: nsRegexp, nsIPv4: nsIPv4Regexpmatch, nsIPv6: nsIPv6Regexpmatch}[kind]
	var ns []string
	for _, l := range getLines(content) {
		if m := re.FindSubmatch(l); len(m) > 0 {
			ns = append(ns, string(m[1]))
		}
	}
	return ns
}

// getSearchDomains is resolvconf.GetSearchDomains: the last search line's.
func getSearchDomains(content []byte) []string {
	return lastFields(content, searchRegexp)
}

// getOptions is resolvconf.GetOptions: the last options line's.
func getOptions(content []byte) []string {
	return lastFields(content, optionsRegexp)
}

func lastFields(content []byte, re *regexp.Regexp) []string {
	var fields []string
	for _, l := range getLines(content) {
		if m := re.FindSubmatch(l); m != nil {
			fields = strings.Fields(string(m[1]))
		}
	}
	return fields
}

// build is resolvconf.Build: search (unless it is "."), nameserver and
// options lines.
func build(dns, search, options []string) []byte {
	var b strings.Builder
	if s := strings.Join(search, " "); len(search) > 0 && strings.Trim(s, " ") != "." {
		b.WriteString("search " + s + "\n")
	}
	for _, ns := range dns {
		b.WriteString("nameserver " + ns + "\n")
	}
	if s := strings.Join(options, " "); len(options) > 0 && strings.Trim(s, " ") != "" {
		b.WriteString("options " + s + "\n")
	}
	return []byte(b.String())
}
