package link

import "testing"

// TestHostIPv6Off: the host's default disable_ipv6 is 1 while any creation
// is under way, and back at its value when the last one ends.
func TestHostIPv6Off(t *testing.T) {
	ns, _ := testNS(t)
	const key = "net/ipv6/conf/default/disable_ipv6"
	before, err := ns.ReadSysctl(key)
	if err != nil {
		t.Skipf("skipping: no IPv6 here: %v", err)
	}
	h := NewHostIPv6Off(ns)
	defer h.Close()
	read := func() string {
		t.Helper()
		v, err := ns.ReadSysctl(key)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	r1, err := h.Off()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.Off()
	if err != nil {
		t.Fatal(err)
	}
	if v := read(); v != "1" {
		t.Errorf("default during two creations: %s, want 1", v)
	}
	if err := r1(); err != nil {
		t.Fatal(err)
	}
	if v := read(); v != "1" {
		t.Errorf("default while one creation is left: %s, want 1", v)
	}
	if err := r2(); err != nil {
		t.Fatal(err)
	}
	if v := read(); v != before {
		t.Errorf("default after the last creation: %s, want %s", v, before)
	}
}
