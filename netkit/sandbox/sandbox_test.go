package sandbox

import (
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/etcdir"
	"github.com/labrun/labrun/netkit/release"
)

// dir is a fixed Directory: own endpoints, and peers by network.
type dir struct {
	own   []Endpoint
	peers map[string][]Endpoint
}

func (d dir) Own() []Endpoint                 { return d.own }
func (d dir) Peers(network string) []Endpoint { return d.peers[network] }

var (
	web  = netip.MustParseAddr("172.18.0.2")
	web2 = netip.MustParseAddr("172.19.0.3")
	cli  = netip.MustParseAddr("172.18.0.3")
)

// TestView: names answer from the first network in join order that has
// them, in any case; the default bridge gives no names; reverse names are
// NAME.NETWORK; external access follows --internal.
func TestView(t *testing.T) {
	d := dir{
		own: []Endpoint{{Network: "bridge", Default: true, Addr: netip.MustParseAddr("172.17.0.2")},
			{Network: "app", Addr: cli, Names: []string{"cli"}}, {Network: "back", Internal: true, Addr: netip.MustParseAddr("172.19.0.2")}},
		peers: map[string][]Endpoint{
			"app":    {{Network: "app", Addr: web, Names: []string{"web", "site"}}, {Network: "app", Addr: cli, Names: []string{"cli"}}},
			"back":   {{Network: "back", Addr: web2, Names: []string{"web", "db"}}},
			"bridge": {{Network: "bridge", Default: true, Addr: netip.MustParseAddr("172.17.0.9"), Names: []string{"old"}}},
		},
	}
	v := View{Dir: d}
	assert.Equal(t, []string{"app", "back"}, v.Networks())
	v4, _, known := v.Lookup("WEB", "")
	assert.True(t, known)
	assert.Equal(t, []netip.Addr{web}, v4, "the first network in join order wins")
	v4, _, _ = v.Lookup("web", "back")
	assert.Equal(t, []netip.Addr{web2}, v4)
	v4, _, _ = v.Lookup("db", "")
	assert.Equal(t, []netip.Addr{web2}, v4)
	_, _, known = v.Lookup("old", "")
	assert.False(t, known, "no names on the default bridge")
	name, ok := v.Reverse(web2)
	assert.True(t, ok)
	assert.Equal(t, "web.back", name)
	assert.True(t, v.ExternalAccess())
	assert.False(t, View{Dir: dir{own: d.own[2:]}}.ExternalAccess(), "an --internal network alone")
}

// TestBuild: a user-defined network's files name the resolver and keep the
// host's resolvers as its upstreams (from the host's namespace, 28+); the
// default bridge's keep the host's resolver; Joining forces the first.
func TestBuild(t *testing.T) {
	host := []byte("nameserver 203.0.113.10\n")
	r28, _ := release.Parse("28")
	f := Build(FilesOptions{Release: r28, HostResolv: host, Own: []Endpoint{{Network: "app", Addr: web}}, Hostname: "c0ffee"})
	assert.True(t, f.Internal)
	assert.Contains(t, string(f.Text[ResolvConf]), "\nnameserver 127.0.0.11\n")
	assert.Contains(t, string(f.Text[Hosts]), "172.18.0.2\tc0ffee\n")
	assert.Equal(t, "c0ffee\n", string(f.Text[Hostname]))
	require.Len(t, f.Upstreams(), 1)
	assert.Equal(t, "203.0.113.10:53", f.Upstreams()[0].Addr.String())
	assert.True(t, f.Upstreams()[0].HostNS)

	f = Build(FilesOptions{Release: r28, HostResolv: host, Own: []Endpoint{{Network: "bridge", Default: true, Addr: web}}})
	assert.False(t, f.Internal)
	assert.Contains(t, string(f.Text[ResolvConf]), "\nnameserver 203.0.113.10\n")
	f = Build(FilesOptions{Release: r28, HostResolv: host, Joining: true})
	assert.True(t, f.Internal)
}

// TestRefresh: the hosts file is always rewritten; resolv.conf only while
// nobody changed what labrun wrote.
func TestRefresh(t *testing.T) {
	d, err := etcdir.New()
	require.NoError(t, err)
	defer d.Close()
	binds, sum, err := Write(d, "c", map[string][]byte{ResolvConf: []byte("one\n"), Hosts: []byte("h1\n"), Hostname: []byte("c\n")}, Sum{})
	require.NoError(t, err)
	require.Len(t, binds, 3)
	assert.Equal(t, ResolvConf, binds[0].Target)
	sum, err = Refresh(d, "c", map[string][]byte{ResolvConf: []byte("two\n"), Hosts: []byte("h2\n")}, sum)
	require.NoError(t, err)
	got, _ := d.Read("c", "resolv.conf")
	assert.Equal(t, "two\n", string(got))
	require.NoError(t, os.WriteFile(d.File("c", "resolv.conf"), []byte("mine\n"), 0o644))
	_, err = Refresh(d, "c", map[string][]byte{ResolvConf: []byte("three\n"), Hosts: []byte("h3\n")}, sum)
	require.NoError(t, err)
	got, _ = d.Read("c", "resolv.conf")
	assert.Equal(t, "mine\n", string(got), "an edited file is left alone")
	got, _ = d.Read("c", "hosts")
	assert.Equal(t, "h3\n", string(got))

	// A restart keeps the edit too (Write with the last sum); a file
	// nobody edited is written anew.
	_, kept, err := Write(d, "c", map[string][]byte{ResolvConf: []byte("four\n"), Hosts: []byte("h4\n")}, sum)
	require.NoError(t, err)
	assert.Equal(t, sum, kept)
	got, _ = d.Read("c", "resolv.conf")
	assert.Equal(t, "mine\n", string(got), "an edited file is kept at a restart")
	_, sum2, err := Write(d, "d", map[string][]byte{ResolvConf: []byte("one\n")}, Sum{})
	require.NoError(t, err)
	_, _, err = Write(d, "d", map[string][]byte{ResolvConf: []byte("two\n")}, sum2)
	require.NoError(t, err)
	got, _ = d.Read("d", "resolv.conf")
	assert.Equal(t, "two\n", string(got))
}
