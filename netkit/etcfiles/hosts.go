package etcfiles

import (
	"net/netip"
	"strings"

	"github.com/labrun/labrun/netkit/release"
)

// Record is one /etc/hosts line: its address, a tab, its names joined by
// spaces (moby/moby v28.5.2 libnetwork/etchosts/etchosts.go Record.WriteTo).
type Record struct {
	Addr  netip.Addr
	Names []string
	// Literal, when set, is written instead of Addr: releases before 28
	// write an --add-host address as the user typed it ("0:0::1"), and
	// Addr is then what netip reads of it, if anything.
	Literal string
}

// String writes r as a hosts line, without its newline.
func (r Record) String() string {
	addr := r.Literal
	if addr == "" {
		addr = r.Addr.String()
	}
	return addr + "\t" + strings.Join(r.Names, " ")
}

// HostsOptions is what Docker builds a container's /etc/hosts from. The
// zero value is a container of the default release with no name and no
// address.
type HostsOptions struct {
	// Release is the Docker release whose format is written.
	Release release.Release
	// NoIPv6 reports that the container's lo has no ::1 (IPv6 disabled by
	// sysctl): from 26.0 the IPv6 default lines and IPv6 records are left
	// out.
	NoIPv6 bool
	// Extra are the --add-host records, then the link records, in flag
	// order (ExtraRecords, LinkRecord).
	Extra []Record
	// Own are the container's addresses, endpoint by endpoint in join
	// order, each endpoint's IPv4 then IPv6.
	Own []netip.Addr
	// Hostname and Domainname are -h and --domainname.
	Hostname, Domainname string
	// HostNetwork is --net=host: the file is a copy of Host unless Extra
	// is set, and has no own records.
	HostNetwork bool
	// Host is the host's /etc/hosts (HostNetwork only).
	Host []byte
}

// The default lines (moby/moby v28.5.2 libnetwork/etchosts/etchosts.go
// defaultContentIPv4, defaultContentIPv6; before 28, "fe00::0" and
// "ff00::0" as text, moby/moby v27.5.1 and v20.10.24).
var (
	localhostRecord = Record{Addr: netip.MustParseAddr("127.0.0.1"), Names: []string{"localhost"}}
	ipv6Records     = []Record{
		{Addr: netip.IPv6Loopback(), Names: []string{"localhost", "ip6-localhost", "ip6-loopback"}},
		{Addr: netip.MustParseAddr("fe00::"), Names: []string{"ip6-localnet"}, Literal: "fe00::0"},
		{Addr: netip.MustParseAddr("ff00::"), Names: []string{"ip6-mcastprefix"}, Literal: "ff00::0"},
		{Addr: netip.MustParseAddr("ff02::1"), Names: []string{"ip6-allnodes"}},
		{Addr: netip.MustParseAddr("ff02::2"), Names: []string{"ip6-allrouters"}},
	}
)

// Hosts writes a container's /etc/hosts as o.Release does: the default
// lines, the extra records, then one record per own address naming the
// container (moby/moby v28.5.2 libnetwork/sandbox_dns_unix.go
// buildHostsFile, makeHostsRecs and libnetwork/etchosts/etchosts.go Build,
// BuildNoIPv6; moby/moby v20.10.24 appends the own records to the built
// file, to the same effect).
//
// Equivalent to: cat /var/lib/docker/containers/ID/hosts
func Hosts(o HostsOptions) []byte {
	if o.HostNetwork && len(o.Extra) == 0 {
		return append([]byte{}, o.Host...)
	}
	noIPv6 := o.NoIPv6 && o.Release.HostsNoIPv6()
	var b strings.Builder
	write := func(r Record) {
		if noIPv6 && r.Addr.Is6() {
			return
		}
		if !r.Addr.IsValid() && r.Literal == "" {
			return
		}
		b.WriteString(r.String() + "\n")
	}
	write(localhostRecord)
	for _, r := range ipv6Records {
		if o.Release.HostsParsedAddrs() {
			r.Literal = ""
		}
		write(r)
	}
	for _, r := range o.Extra {
		write(r)
	}
	if !o.HostNetwork {
		names := ownNames(o.Hostname, o.Domainname)
		for _, a := range o.Own {
			write(Record{Addr: a, Names: names})
		}
	}
	return []byte(b.String())
}

// ownNames are the names of the container's own records: its hostname, or
// with a dot in it or a domain name its FQDN and its short name (moby/moby
// v28.5.2 libnetwork/sandbox_dns_unix.go makeHostsRecs).
func ownNames(hostname, domainname string) []string {
	fqdn := hostname
	if domainname != "" {
		fqdn += "." + domainname
	}
	if short, _, ok := strings.Cut(fqdn, "."); ok {
		return []string{fqdn, short}
	}
	return []string{fqdn}
}

// Hostname writes a container's /etc/hostname: its hostname and a newline
// (moby/moby v28.5.2 container/container_unix.go BuildHostnameFile).
//
// Equivalent to: cat /var/lib/docker/containers/ID/hostname
func Hostname(hostname string) []byte {
	return []byte(hostname + "\n")
}

// LinkRecord is the parent's hosts record of a legacy --link to a child:
// its address, the alias, the child's hostname and, unless it is the
// alias, the child's name ("/w" or "w") (moby/moby v28.5.2
// daemon/container_operations_unix.go addLegacyLinks). Docker adds one for
// the child's IPv4 address and one for its global IPv6 address, if any.
func LinkRecord(childAddr netip.Addr, alias, childHostname, childName string) Record {
	names := []string{alias, childHostname}
	if name := strings.TrimPrefix(childName, "/"); name != alias {
		names = append(names, name)
	}
	return Record{Addr: childAddr, Names: names}
}
