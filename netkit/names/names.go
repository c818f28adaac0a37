// Package names is netkit's room for the names and identifiers of Docker
// objects: container and network IDs, the random container names Docker
// gives, the container names Docker accepts, a container's DNS names,
// aliases and links on a network, and the MAC addresses of the links
// Docker makes. It is pure: no syscalls, no
// engine state; the engine decides what a name conflicts with.
package names

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"strings"
)

// ContainerChars is what a container name may hold, as the daemon's error
// text says it: a letter or digit, then at least one more of these or
// '_', '.', '-' (moby/moby daemon/names/names.go RestrictedNameChars,
// v28.3.0; docs/docker.md §6).
const ContainerChars = `[a-zA-Z0-9][a-zA-Z0-9_.-]`

// containerPattern is what the daemon's reserveName accepts (moby/moby
// daemon/names.go, v28.3.0): the name, less one leading '/', matches
// RestrictedNamePattern, ^ContainerChars+$ (so at least two characters).
var containerPattern = regexp.MustCompile(`^/?` + ContainerChars + `+$`)

// Container checks a container name given to docker run, create or rename
// as the daemon does, and returns it without the leading '/' that Docker
// stores and strips: ok is false for a name Docker refuses ("a", "_web",
// "/a", "web!"), whose error text quotes the name as given.
func Container(name string) (clean string, ok bool) {
	if !containerPattern.MatchString(name) {
		return "", false
	}
	return strings.TrimPrefix(name, "/"), true
}

// ID returns a random 64-hex-digit identifier, as Docker's for containers
// and networks.
func ID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Short form of Docker names, after moby's namesgenerator: adjective_surname.
var (
	adjectives = []string{"admiring", "affectionate", "amazing", "angry", "awesome", "blissful", "bold", "brave",
		"charming", "clever", "compassionate", "competent", "condescending", "confident", "cool", "cranky",
		"dazzling", "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant",
		"epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny",
		"gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
		"hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind",
		"laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous",
		"nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical",
		"priceless", "quirky", "quizzical", "relaxed", "reverent", "romantic", "sad", "serene", "sharp",
		"silly", "sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty",
		"trusting", "unruffled", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful",
		"xenodochial", "youthful", "zealous", "zen"}
	surnames = []string{"albattani", "allen", "almeida", "archimedes", "ardinghelli", "babbage", "banach",
		"bardeen", "bartik", "bassi", "bell", "bhabha", "blackwell", "bohr", "booth", "borg", "bose", "brahmagupta",
		"brattain", "brown", "carson", "cerf", "chandrasekhar", "chatelet", "clarke", "cohen", "curie", "darwin",
		"davinci", "diffie", "dijkstra", "dirac", "edison", "einstein", "elion", "engelbart", "euclid", "euler",
		"fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "haibt", "hamilton",
		"hawking", "heisenberg", "hermann", "hodgkin", "hoover", "hopper", "hypatia", "jackson", "jang", "jennings",
		"johnson", "kalam", "kapitsa", "keller", "kepler", "khorana", "kilby", "knuth", "lalande", "lamarr",
		"leakey", "leavitt", "lovelace", "lumiere", "mayer", "mccarthy", "mcclintock", "meitner", "mendel",
		"merkle", "minsky", "mirzakhani", "montalcini", "morse", "napier", "nash", "newton", "nobel", "noether",
		"pascal", "pasteur", "payne", "perlman", "pike", "poincare", "ptolemy", "raman", "ramanujan", "ritchie",
		"rosalind", "sammet", "shannon", "shaw", "shockley", "sinoussi", "snyder", "spence", "stallman",
		"swartz", "tesla", "thompson", "torvalds", "turing", "varahamihira", "volhard", "wescoff", "wiles",
		"williams", "wilson", "wing", "wozniak", "wright", "yalow", "yonath"}
)

// Random returns a random container name, adjective_surname, as Docker's
// namesgenerator makes them (moby/moby pkg/namesgenerator, v27.5.1).
func Random() string {
	return adjectives[mrand.IntN(len(adjectives))] + "_" + surnames[mrand.IntN(len(surnames))]
}

// StableHex derives n hex digits from s (FNV-based, deterministic), for IDs
// that must stay the same across calls (sandbox keys, image digests).
func StableHex(s string, n int) string {
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, n)
	h := uint64(14695981039346656037)
	for len(out) < n {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= uint64(len(out))
		h *= 1099511628211
		for k := 0; k < 16 && len(out) < n; k++ {
			out = append(out, hexd[(h>>(4*k))&0xf])
		}
	}
	return string(out)
}

// ContainerMAC is the MAC address of a container's interface with address
// a: 02:42 and the IPv4 address before Docker 28.0, random (random) since.
func ContainerMAC(a netip.Addr, random bool) net.HardwareAddr {
	if random || !a.Is4() {
		return randomLAA()
	}
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// BridgeMAC is the MAC address of a bridge the engine creates: 02:42 and
// four random bytes before Docker 28.0, random (random) since.
func BridgeMAC(random bool) net.HardwareAddr {
	mac := randomLAA()
	if !random {
		mac[0], mac[1] = 0x02, 0x42
	}
	return mac
}

// randomLAA is a random locally administered unicast MAC address (Docker
// 28's netutils.GenerateRandomMAC).
func randomLAA() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}
