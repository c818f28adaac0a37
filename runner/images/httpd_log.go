package images

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// httpd writes its logs as the httpd image's Apache does, where docker logs
// shows them: the error log on stderr (ErrorLog /proc/self/fd/2), the
// access log on stdout (CustomLog /proc/self/fd/1 common). The texts are
// Apache 2.4.62's, the image's release, as `docker logs` of a container of
// httpd:2.4.62 shows them.

// startupLog is what Apache writes on stderr as it starts: it cannot name
// the server (no ServerName), twice (once per configuration pass), then
// its notices. addr is the address the container's hostname has.
func startupLog(w io.Writer, now time.Time, addr string) {
	for range 2 {
		fmt.Fprintf(w, "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using %s. Set the 'ServerName' directive globally to suppress this message\n", addr)
	}
	t := now.UTC().Format("Mon Jan 02 15:04:05.000000 2006")
	fmt.Fprintf(w, "[%s] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations\n", t)
	fmt.Fprintf(w, "[%s] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n", t)
}

// hostAddr is the address of host in hosts (an /etc/hosts), as the
// resolver would give it to Apache: its first IPv4 address there, else
// 127.0.0.1.
func hostAddr(hosts io.Reader, host string) string {
	sc := bufio.NewScanner(hosts)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 || strings.Contains(f[0], ":") {
			continue
		}
		for _, name := range f[1:] {
			if name == host {
				return f[0]
			}
		}
	}
	return "127.0.0.1"
}

// logStartup writes the startup log for this container.
func logStartup() {
	host, _ := os.Hostname()
	addr := "127.0.0.1"
	if f, err := os.Open("/etc/hosts"); err == nil {
		addr = hostAddr(f, host)
		f.Close()
	}
	startupLog(os.Stderr, time.Now(), addr)
}

// accessLog wraps h to write a line per request on w, in Apache's common
// log format (%h %l %u %t "%r" %>s %b).
func accessLog(w io.Writer, h http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: rw, status: http.StatusOK}
		h.ServeHTTP(cw, r)
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		size := "-"
		if cw.n > 0 {
			size = fmt.Sprint(cw.n)
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s - - [%s] \"%s %s %s\" %d %s\n", host, time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"),
			r.Method, r.RequestURI, r.Proto, cw.status, size)
	})
}

// countingWriter records a response's status and body size.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int
}

func (w *countingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += n
	return n, err
}
