// Package checks answers questions about a lab from the outside, the way a
// person with ping, curl, ssh and tcpdump would, but without any of those
// tools installed: can this namespace reach that address now, what does that
// web server answer, and what did the packets look like on each side of a
// router — in particular, did the router rewrite them (DNAT, SNAT) and undo
// the rewrite on the replies.
//
// It exists so that scenarios and netkit's own tests share one careful
// implementation of probes and captures, in pure Go (the labrun binary builds
// with CGO_ENABLED=0), instead of each shelling out to tools that a machine
// may not have.
//
// It is not a lab builder: it never creates namespaces, links, addresses or
// rules, and it sends traffic only from namespaces its callers made, to the
// addresses they name.
//
// # Namespaces and sockets
//
// Every probe and capture takes the *netns.NS it runs in. The package enters a
// namespace (with netns.(*NS).Do) only long enough to create a file
// descriptor: a TCP or UDP socket for a probe, an ICMP socket for Ping, an
// AF_PACKET socket for a capture. A socket belongs for life to the namespace
// it was created in, so everything after that — connect, send, receive,
// waiting on deadlines — runs on ordinary goroutines through Go's poller. A
// connect that takes seconds therefore never pins a thread inside a namespace.
//
// # Probes
//
// Reach, Ping, HTTP and SSH answer what is true now: they make one attempt
// bounded by the context and fail with the kernel's reason ("connection
// refused", "no route to host") or "timed out after 1s". WaitReach is the
// readiness form: it repeats Reach with backoff until it succeeds or the
// context ends. Nothing in this package sleeps for a fixed time.
//
// # Captures
//
// StartCapture opens an AF_PACKET socket bound to one interface and returns
// once the socket is bound, so a packet sent after it returns is captured.
// Packets are read into memory by a goroutine, filtered with a small
// tcpdump-like language evaluated in Go (see ParseFilter), and handed back by
// Stop together with the kernel's drop count. WritePcap writes them as a pcap
// file that tcpdump -r and Wireshark read; Summary and Summaries render them
// as tcpdump -n does; MatchNAT pairs the flows of two captures and reports
// each rewrite.
//
// The capture socket is the package's own rather than
// pcapgo.NewEthernetHandle: that handle reads with a blocking recvmsg that
// nothing can interrupt (so Stop could hang on a quiet interface), hides its
// descriptor (so the receive buffer cannot be enlarged), and opens its socket
// for all interfaces before binding it to one (so a busy namespace leaks
// other interfaces' packets into the capture). pcapgo still writes and reads
// the files.
package checks
