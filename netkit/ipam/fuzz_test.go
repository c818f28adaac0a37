package ipam

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzPool runs a random sequence of requests and releases on a small pool
// against a naive model (a map and a linear lowest-free search).
func FuzzPool(f *testing.F) {
	f.Add(uint8(24), uint8(0), []byte{0, 0, 0, 1, 5, 0, 2, 9})
	f.Add(uint8(30), uint8(0), []byte{0, 0, 0, 0})
	f.Add(uint8(20), uint8(24), []byte{0, 1, 2, 0, 1, 2, 255, 3})
	f.Fuzz(func(t *testing.T, bits, rangeBits uint8, ops []byte) {
		bits = 20 + bits%13 // /20 … /32
		if len(ops) > 256 {
			ops = ops[:256] // the model is slow
		}
		subnet := netip.PrefixFrom(netip.MustParseAddr("10.1.0.0"), int(bits)).Masked()
		var ipRange netip.Prefix
		if rangeBits%3 == 1 {
			rb := int(bits) + int(rangeBits)%(33-int(bits))
			start := uint64(rangeBits) << (32 - rb) % size(subnet)
			ipRange = netip.PrefixFrom(uintAddr(addrUint(subnet.Addr())+uint32(start)), rb).Masked()
		}
		p, err := NewPool(subnet, ipRange)
		require.NoError(t, err, "NewPool(%v, %v)", subnet, ipRange)
		r := ipRange
		if !r.IsValid() {
			r = subnet
		}
		used := map[netip.Addr]bool{}
		if bits < 31 {
			used[subnet.Addr()] = true
			used[uintAddr(addrUint(subnet.Addr())+uint32(size(subnet)-1))] = true
		}
		lowestFree := func() (netip.Addr, bool) {
			for a := r.Addr(); r.Contains(a); a = a.Next() {
				if !used[a] {
					return a, true
				}
			}
			return netip.Addr{}, false
		}
		for i := 0; i+1 < len(ops); i += 2 {
			a := uintAddr(addrUint(subnet.Addr()) + uint32(ops[i+1])%uint32(size(subnet)))
			switch ops[i] % 3 {
			case 0:
				got, err := p.RequestAny()
				want, ok := lowestFree()
				require.Equal(t, ok, err == nil, "op %d RequestAny: error %v, want a free address %v", i, err, ok)
				require.Equal(t, want, got, "op %d RequestAny", i)
				if ok {
					used[got] = true
				}
			case 1:
				err := p.Request(a)
				if used[a] {
					require.Error(t, err, "op %d Request(%v) of a used address", i, a)
				} else {
					require.NoError(t, err, "op %d Request(%v) of a free address", i, a)
				}
				used[a] = true
			case 2:
				reserved := bits < 31 && (a == subnet.Addr() || !subnet.Contains(a.Next()))
				err := p.Release(a)
				if reserved {
					require.Error(t, err, "op %d Release(%v) of a reserved address", i, a)
				} else {
					require.NoError(t, err, "op %d Release(%v)", i, a)
				}
				if !reserved {
					delete(used, a)
				}
			}
			inRange := 0
			for a := range used {
				if r.Contains(a) {
					inRange++
				}
			}
			require.Equal(t, len(used), p.InUse(), "op %d: InUse", i)
			require.Equal(t, int(size(r))-inRange, p.DynamicAvailable(), "op %d: DynamicAvailable", i)
		}
	})
}
