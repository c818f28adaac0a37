// Package topology reads what a lab looks like now from the kernel (its
// nodes, interfaces, addresses, veth pairs, the LANs of its world, every
// engine's networks and published ports), and shows it: as a Mermaid or SVG diagram (labrun
// diagram) and as labrun inspect's list of nodes and containers.
//
// It is not the lab (netkit) nor the commands that ask a live lab's keeper
// for these views (cmd/labrun/classroom); it only reads and draws.
package topology
