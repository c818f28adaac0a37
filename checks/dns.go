package checks

import (
	"fmt"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// dnsPort is the name server port, whose UDP datagrams tcpdump decodes as
// DNS whichever way they go.
const dnsPort = 53

// dnsText renders a DNS message as tcpdump 4.99 does without -v
// (print-domain.c ns_print): a query "ID[+] A? NAME. (LEN)", an answer
// "ID[ RCODE][*][-][|] AN/NS/AR RR, RR (LEN)" with each answer's type and
// data. ok is false for a payload that is not a DNS message it renders.
func dnsText(payload []byte) (string, bool) {
	var m layers.DNS
	if err := m.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil || m.OpCode != layers.DNSOpCodeQuery {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d", m.ID)
	if !m.QR {
		if m.RD {
			b.WriteString("+")
		}
		if len(m.Answers) > 0 {
			fmt.Fprintf(&b, " [%da]", len(m.Answers))
		}
		if len(m.Authorities) > 0 {
			fmt.Fprintf(&b, " [%dn]", len(m.Authorities))
		}
		if len(m.Additionals) > 0 {
			fmt.Fprintf(&b, " [%dau]", len(m.Additionals))
		}
		if len(m.Questions) > 0 {
			q := m.Questions[0]
			if q.Class != layers.DNSClassIN {
				return "", false
			}
			fmt.Fprintf(&b, " %s? %s.", dnsType(q.Type), q.Name)
		}
		fmt.Fprintf(&b, " (%d)", len(payload))
		return b.String(), true
	}
	b.WriteString(dnsRcodes[m.ResponseCode])
	if m.AA {
		b.WriteString("*")
	}
	if !m.RA {
		b.WriteString("-")
	}
	if m.TC {
		b.WriteString("|")
	}
	if len(m.Questions) != 1 {
		fmt.Fprintf(&b, " [%dq]", len(m.Questions))
	}
	fmt.Fprintf(&b, " %d/%d/%d", len(m.Answers), len(m.Authorities), len(m.Additionals))
	for i, rr := range m.Answers {
		if i > 0 {
			b.WriteString(",")
		}
		if rr.Class != layers.DNSClassIN {
			return "", false
		}
		fmt.Fprintf(&b, " %s", dnsType(rr.Type))
		switch rr.Type {
		case layers.DNSTypeA, layers.DNSTypeAAAA:
			fmt.Fprintf(&b, " %s", rr.IP)
		case layers.DNSTypePTR:
			fmt.Fprintf(&b, " %s.", rr.PTR)
		case layers.DNSTypeCNAME:
			fmt.Fprintf(&b, " %s.", rr.CNAME)
		case layers.DNSTypeNS:
			fmt.Fprintf(&b, " %s.", rr.NS)
		default:
			return "", false // tcpdump prints their data: not reproduced
		}
	}
	fmt.Fprintf(&b, " (%d)", len(payload))
	return b.String(), true
}

// dnsRcodes are tcpdump's names of response codes (print-domain.c
// ns_rcode), each with its leading space; NOERROR prints nothing.
var dnsRcodes = map[layers.DNSResponseCode]string{
	layers.DNSResponseCodeFormErr: " FormErr", layers.DNSResponseCodeServFail: " ServFail",
	layers.DNSResponseCodeNXDomain: " NXDomain", layers.DNSResponseCodeNotImp: " NotImp",
	layers.DNSResponseCodeRefused: " Refused",
}

// dnsType is tcpdump's name of a record type.
func dnsType(t layers.DNSType) string {
	switch t {
	case layers.DNSTypeA, layers.DNSTypeNS, layers.DNSTypeCNAME, layers.DNSTypeSOA, layers.DNSTypePTR,
		layers.DNSTypeMX, layers.DNSTypeTXT, layers.DNSTypeAAAA, layers.DNSTypeSRV:
		return t.String()
	}
	return fmt.Sprintf("Type%d", uint16(t))
}
