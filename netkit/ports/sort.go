package ports

import (
	"cmp"
	"slices"
)

// Sort orders bs the way Docker 27 and later order a container's bindings
// before allocating host ports (libnetwork bridge sortAndNormPBs and
// cmpPortBinding), so that ports are handed out in Docker's order:
//
//  1. exact host ports before ephemeral ports and host ranges (so an exact
//     port is taken before a range could take it);
//  2. ascending container port;
//  3. protocol tcp < udp < sctp;
//  4. ascending host port, then host range end;
//  5. host address: none (the engine default) first, then IPv4 before
//     IPv6, each ascending, so 0.0.0.0 comes before ::.
//
// Bindings equal up to step 4 need the same host port for every address
// (Docker's needSamePort), and the order puts them next to each other.
// A HostPortEnd of 0 counts as equal to HostPort, as Docker normalises it;
// Sort does not modify the bindings. The sort is stable.
func Sort(bs []Binding) {
	slices.SortStableFunc(bs, compareBindings)
}

func compareBindings(a, b Binding) int {
	if ar, br := isRange(a), isRange(b); ar != br {
		if ar {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.Container.Num, b.Container.Num); c != 0 {
		return c
	}
	if c := compareProto(a.Container.Proto, b.Container.Proto); c != 0 {
		return c
	}
	if c := cmp.Compare(a.HostPort, b.HostPort); c != 0 {
		return c
	}
	if c := cmp.Compare(hostPortEnd(a), hostPortEnd(b)); c != 0 {
		return c
	}
	// The zero Addr sorts before every valid one, IPv4 before IPv6.
	return a.HostIP.Unmap().Compare(b.HostIP.Unmap())
}

// isRange reports whether b asks for any port of a range: ephemeral (host
// port 0) or a host port range.
func isRange(b Binding) bool {
	return b.HostPort == 0 || hostPortEnd(b) != b.HostPort
}

func hostPortEnd(b Binding) uint16 {
	if b.HostPortEnd == 0 {
		return b.HostPort
	}
	return b.HostPortEnd
}

// compareProto orders protocols as Docker's numeric protocol values do
// (tcp 6 < udp 17 < sctp 132); names Docker cannot publish go last.
func compareProto(a, b Proto) int {
	rank := func(p Proto) int {
		switch p {
		case TCP:
			return 0
		case UDP:
			return 1
		case SCTP:
			return 2
		}
		return 3
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}
