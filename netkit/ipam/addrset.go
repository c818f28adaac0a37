package ipam

import "math/bits"

// addrSet is a set of address offsets (0 to 2^32-1) within a subnet: a
// bitmap split into chunks of 2^16 addresses that exist only once an
// address in them is set, so a /8 or larger costs memory only where it is
// used. It is not safe for concurrent use.
type addrSet struct {
	chunks map[uint32]*chunk
}

const (
	chunkShift = 16
	chunkBits  = 1 << chunkShift
	chunkWords = chunkBits / 64
)

type chunk struct {
	w [chunkWords]uint64
	n int // number of bits set
}

func (s *addrSet) has(off uint64) bool {
	c := s.chunks[uint32(off>>chunkShift)]
	return c != nil && c.w[(off&(chunkBits-1))>>6]&(1<<(off&63)) != 0
}

// add sets off and reports whether it was clear.
func (s *addrSet) add(off uint64) bool {
	if s.chunks == nil {
		s.chunks = map[uint32]*chunk{}
	}
	ci := uint32(off >> chunkShift)
	c := s.chunks[ci]
	if c == nil {
		c = new(chunk)
		s.chunks[ci] = c
	}
	wi, bit := (off&(chunkBits-1))>>6, uint64(1)<<(off&63)
	if c.w[wi]&bit != 0 {
		return false
	}
	c.w[wi] |= bit
	c.n++
	return true
}

// remove clears off and reports whether it was set.
func (s *addrSet) remove(off uint64) bool {
	ci := uint32(off >> chunkShift)
	c := s.chunks[ci]
	if c == nil {
		return false
	}
	wi, bit := (off&(chunkBits-1))>>6, uint64(1)<<(off&63)
	if c.w[wi]&bit == 0 {
		return false
	}
	c.w[wi] &^= bit
	if c.n--; c.n == 0 {
		delete(s.chunks, ci)
	}
	return true
}

// nextClear returns the lowest clear offset in [from, to]. It skips full
// chunks whole and full words 64 at a time.
func (s *addrSet) nextClear(from, to uint64) (uint64, bool) {
	for off := from; off <= to; {
		ci := uint32(off >> chunkShift)
		chunkEnd := uint64(ci)<<chunkShift | (chunkBits - 1)
		c := s.chunks[ci]
		switch {
		case c == nil:
			return off, true
		case c.n < chunkBits:
			wi := (off & (chunkBits - 1)) >> 6
			// Count the bits below off as set.
			w := c.w[wi] | (uint64(1)<<(off&63) - 1)
			for {
				if w != ^uint64(0) {
					found := uint64(ci)<<chunkShift | wi<<6 | uint64(bits.TrailingZeros64(^w))
					if found > to {
						return 0, false
					}
					return found, true
				}
				if wi++; wi == chunkWords {
					break
				}
				w = c.w[wi]
			}
		}
		off = chunkEnd + 1
	}
	return 0, false
}
