package testkit

import "net"

// EchoUDP sends every datagram that c receives back to its sender, from a
// goroutine that ends when c is closed.
//
// Equivalent to: socat UDP-RECVFROM:PORT,fork EXEC:cat
func EchoUDP(c net.PacketConn) {
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(buf[:n], from)
		}
	}()
}
