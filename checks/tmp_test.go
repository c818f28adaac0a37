package checks

import "testing"

func TestTmpNAT(t *testing.T) {
	for _, p := range [][2]string{{"dnat_r0", "dnat_r1"}, {"snat_r1", "snat_r0"}, {"nonat_r0", "nonat_r1"}, {"nonat_r1", "nonat_r0"}} {
		t.Log(p)
		for _, r := range MatchNAT(readPcap(t, p[0]), readPcap(t, p[1])) {
			t.Log(r.String(), r.Forward, r.Replies)
		}
	}
	t.Log(ExpectRewrite(MatchNAT(readPcap(t, "nonat_r0"), readPcap(t, "nonat_r1")), "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80"))
}
