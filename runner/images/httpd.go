package images

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"html"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labrun/labrun/netkit/initproc"
)

// Program names registered with initproc.
const (
	// ProgramHTTPD serves the "It works!" page.
	// Args: [-port N] (default 80, 0 for none) [-tls-port N] (default
	// 0: no HTTPS).
	ProgramHTTPD = "httpd"
	// ProgramSSHD is an SSH server for root/labrun.
	// Args: [-port N] (default 22).
	ProgramSSHD = "sshd"
	// ProgramWebSSH is sshd in the main process plus an httpd child
	// process serving HTTP and HTTPS.
	// Args: [-ssh-port N] [-http-port N] [-https-port N] (default 22, 80,
	// 443).
	ProgramWebSSH = "web-ssh"
)

func init() {
	initproc.Register(ProgramHTTPD, runHTTPD)
	initproc.Register(ProgramSSHD, runSSHD)
	initproc.Register(ProgramWebSSH, runWebSSH)
}

// parseFlags parses a program's flags; the programs take no arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// runHTTPD is the httpd program: it binds its listeners, reports readiness
// and serves until a server fails.
func runHTTPD(args []string, ready func()) error {
	fs := flag.NewFlagSet(ProgramHTTPD, flag.ContinueOnError)
	port := fs.Int("port", 80, "HTTP `port` (0: no HTTP)")
	tlsPort := fs.Int("tls-port", 0, "HTTPS `port` with a self-signed certificate (0: no HTTPS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	wait, err := listenHTTP(*port, *tlsPort)
	if err != nil {
		return err
	}
	logStartup()
	ready()
	return wait()
}

// listenHTTP binds the HTTP and HTTPS listeners (a zero port is skipped) on
// all addresses and serves them in the background. The returned function
// waits until one of the servers fails and returns its error.
func listenHTTP(port, tlsPort int) (wait func() error, err error) {
	if port == 0 && tlsPort == 0 {
		return nil, errors.New("no port to listen on")
	}
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	if port != 0 {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			return nil, fmt.Errorf("listening for http: %w", err)
		}
		lns = append(lns, ln)
	}
	if tlsPort != 0 {
		cert, err := selfSignedCert()
		if err != nil {
			closeAll()
			return nil, err
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(tlsPort))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listening for https: %w", err)
		}
		lns = append(lns, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", servePage)
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		srv := &http.Server{Handler: accessLog(os.Stdout, mux), ReadHeaderTimeout: 30 * time.Second}
		go func() {
			errc <- fmt.Errorf("serving http on %s: %w", ln.Addr(), srv.Serve(ln))
		}()
	}
	return func() error { return <-errc }, nil
}

// servePage writes the index page. The address is the local address of the
// connection the request came in on, so it is right whatever the wiring
// (bridge, published port, container network mode).
func servePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "/index.html" {
		http.NotFound(w, r)
		return
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	addr := "unknown"
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		addr = a.AddrPort().Addr().Unmap().String()
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, "<html><body><h1>It works!</h1><p>container %s at %s</p></body></html>\n",
		html.EscapeString(host), html.EscapeString(addr))
}

// selfSignedCert makes an ECDSA P-256 certificate for the hostname and
// localhost, signed by its own key, valid for a year.
func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating serial number: %w", err)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host, "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("creating certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
