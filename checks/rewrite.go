package checks

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Tuple is one direction of a flow as seen at one capture point. For ICMP
// echo the port of the querying end is the echo identifier (the source's for
// a request, the destination's for a reply) and the other port is 0; for
// other ICMP both ports are 0.
type Tuple struct {
	Src, Dst netip.AddrPort
}

// Reverse is the tuple of the other direction.
func (t Tuple) Reverse() Tuple { return Tuple{Src: t.Dst, Dst: t.Src} }

// RewriteKind says what happened to a flow between two capture points.
type RewriteKind int

const (
	// RewriteNone: the packets passed unchanged.
	RewriteNone RewriteKind = iota
	// RewriteDNAT: the destination address or port changed.
	RewriteDNAT
	// RewriteSNAT: the source address or port changed.
	RewriteSNAT
	// RewriteBoth: source and destination changed ("SNAT+DNAT").
	RewriteBoth
	// RewriteLost: the flow was seen in the first capture and none of its
	// packets in the second: it was dropped, or ended at the box between.
	RewriteLost
	// RewriteExtra: the flow was seen in the second capture only: the box
	// between originated it, or it came from elsewhere.
	RewriteExtra
)

func (k RewriteKind) String() string {
	switch k {
	case RewriteNone:
		return "none"
	case RewriteDNAT:
		return "DNAT"
	case RewriteSNAT:
		return "SNAT"
	case RewriteBoth:
		return "SNAT+DNAT"
	case RewriteLost:
		return "lost"
	case RewriteExtra:
		return "extra"
	}
	return fmt.Sprintf("RewriteKind(%d)", int(k))
}

// Rewrite is one flow matched between two captures by MatchNAT.
type Rewrite struct {
	Kind  RewriteKind
	Proto string // "tcp", "udp", "icmp" or "icmp6"
	// First is the flow's initiating direction as seen in the first
	// capture (zero for RewriteExtra); Second is the same packets as seen in
	// the second (zero for RewriteLost).
	First, Second Tuple
	// Forward and Replies count the packets matched in both captures in
	// each direction, and Errors the ICMP errors about the flow (port
	// unreachable, say), whose quoted datagram must be translated too.
	Forward, Replies, Errors int
	// Problems lists what is wrong with the flow, worded for a person: a
	// reply not translated back ("broken reverse mapping"), packets of the
	// flow seen on one side only, or a direction rewritten two different
	// ways. Empty when the flow is consistent.
	Problems []string
	// Clipped counts the flow's packets seen in one capture only, before
	// the first or after the last packet that both captures saw: the other
	// capture was most likely not running yet, or any more, so they are not
	// counted as problems. A connection still closing while the captures
	// stop one after the other leaves such packets.
	Clipped int
	// FirstPackets and SecondPackets are the flow's packets in each
	// capture, in capture order.
	FirstPackets, SecondPackets []Packet
}

// String renders the rewrite on one line:
//
//	DNAT tcp 192.168.190.1:40312 > 192.168.190.128:801 => 192.168.190.1:40312 > 172.17.0.2:80
//	SNAT tcp 172.17.0.2:51000 > 203.0.113.10:80 => 192.168.190.128:51000 > 203.0.113.10:80
//	none udp 192.168.190.1:40000 > 172.17.0.2:9999
//	lost tcp 192.168.190.1:40312 > 192.168.190.128:801
//	extra icmp 192.168.190.128 > 203.0.113.10 id 7
//
// followed by "; " and the problems, if any.
func (r Rewrite) String() string {
	s := r.base()
	if len(r.Problems) > 0 {
		s += "; " + strings.Join(r.Problems, "; ")
	}
	return s
}

// base is String without the problems.
func (r Rewrite) base() string {
	switch r.Kind {
	case RewriteNone, RewriteLost:
		return r.Kind.String() + " " + r.Proto + " " + r.fmtTuple(r.First)
	case RewriteExtra:
		return r.Kind.String() + " " + r.Proto + " " + r.fmtTuple(r.Second)
	}
	return r.Kind.String() + " " + r.Proto + " " + r.fmtTuple(r.First) + " => " + r.fmtTuple(r.Second)
}

// fmtTuple renders a tuple of this rewrite's protocol: "A:p > B:q", or for
// ICMP "A > B" with " id N" for echo.
func (r Rewrite) fmtTuple(t Tuple) string {
	if r.Proto != "icmp" && r.Proto != "icmp6" {
		return t.Src.String() + " > " + t.Dst.String()
	}
	s := t.Src.Addr().String() + " > " + t.Dst.Addr().String()
	if id := t.Src.Port() | t.Dst.Port(); id != 0 {
		s += fmt.Sprintf(" id %d", id)
	}
	return s
}

// ExpectRewrite returns nil if rws holds a rewrite that matches want and has
// no problems. want is a rewrite in String's form, in which "*" stands for
// any run of non-blank characters (an ephemeral port, say):
//
//	DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80
//
// The error names what was expected and shows every flow seen, with its
// packets on both sides (see FormatRewrites).
func ExpectRewrite(rws []Rewrite, want string) error {
	re, err := wantPattern(want)
	if err != nil {
		return err
	}
	for _, r := range rws {
		if !re.MatchString(r.base()) {
			continue
		}
		if len(r.Problems) > 0 {
			return fmt.Errorf("expected rewrite %q: found %s, but:\n  %s\nseen:\n%s",
				want, r.base(), strings.Join(r.Problems, "\n  "), FormatRewrites([]Rewrite{r}))
		}
		return nil
	}
	if len(rws) == 0 {
		return fmt.Errorf("expected rewrite %q: saw no TCP, UDP or ICMP flows at all", want)
	}
	return fmt.Errorf("expected rewrite %q, saw:\n%s", want, FormatRewrites(rws))
}

// wantPattern compiles an ExpectRewrite pattern.
func wantPattern(want string) (*regexp.Regexp, error) {
	parts := strings.Split(strings.Join(strings.Fields(want), " "), "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.Compile("^" + strings.Join(parts, "[^ ]*") + "$")
}

// maxShown bounds the packets FormatRewrites prints per flow and side.
const maxShown = 10

// FormatRewrites renders rewrites for a failure message: each on a line,
// then its problems and the packets of each side in tcpdump's form.
func FormatRewrites(rws []Rewrite) string {
	var b strings.Builder
	for _, r := range rws {
		b.WriteString("  " + r.base() + "\n")
		for _, p := range r.Problems {
			b.WriteString("    problem: " + p + "\n")
		}
		if r.Clipped > 0 {
			fmt.Fprintf(&b, "    (%d packet(s) on one side only, outside the stretch both captures saw)\n", r.Clipped)
		}
		for _, side := range []struct {
			name string
			pkts []Packet
		}{{"first", r.FirstPackets}, {"second", r.SecondPackets}} {
			if len(side.pkts) == 0 {
				fmt.Fprintf(&b, "    %s: (no packets)\n", side.name)
				continue
			}
			fmt.Fprintf(&b, "    %s:\n", side.name)
			lines := Summaries(side.pkts)
			for i, l := range lines {
				if i == maxShown {
					fmt.Fprintf(&b, "      … %d more\n", len(lines)-maxShown)
					break
				}
				b.WriteString("      " + l + "\n")
			}
		}
	}
	return b.String()
}
