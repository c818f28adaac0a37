package ports

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOnLoopback: a binding on 127.0.0.1, its own or the network's
// default (dockerd --ip=127.0.0.1; fidelity case daemon_ip_loopback).
func TestOnLoopback(t *testing.T) {
	lo, any4 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("0.0.0.0")
	web := Binding{Container: Port{Num: 80, Proto: TCP}, HostPort: 8080}
	assert.False(t, OnLoopback([]Binding{web}, netip.Addr{}), "no address")
	assert.True(t, OnLoopback([]Binding{web}, lo), "the default address")
	own := web
	own.HostIP = any4
	assert.False(t, OnLoopback([]Binding{own}, lo), "its own address first")
	own.HostIP = lo
	assert.True(t, OnLoopback([]Binding{own}, netip.Addr{}), "its own loopback")
	own.HostIP = netip.MustParseAddr("::1")
	assert.False(t, OnLoopback([]Binding{own}, netip.Addr{}), "IPv6 loopback has no raw rule")
}
