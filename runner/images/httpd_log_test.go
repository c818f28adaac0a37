package images

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStartupLog(t *testing.T) {
	var b bytes.Buffer
	startupLog(&b, time.Date(2024, 12, 2, 9, 24, 38, 908308000, time.UTC), "172.17.0.2")
	const ah00558 = "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 172.17.0.2. Set the 'ServerName' directive globally to suppress this message\n"
	assert.Equal(t, ah00558+ah00558+
		"[Mon Dec 02 09:24:38.908308 2024] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations\n"+
		"[Mon Dec 02 09:24:38.908308 2024] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n", b.String())
}

func TestHostAddr(t *testing.T) {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# 10.0.0.9 web\nfe80::1\tweb\n172.17.0.2\tweb web.example.org\n"
	assert.Equal(t, "172.17.0.2", hostAddr(strings.NewReader(hosts), "web"))
	assert.Equal(t, "127.0.0.1", hostAddr(strings.NewReader(hosts), "nosuch"), "not in /etc/hosts")
}

func TestAccessLog(t *testing.T) {
	var b bytes.Buffer
	h := accessLog(&b, http.HandlerFunc(servePage))
	for _, path := range []string{"/", "/nope"} {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "192.168.190.1:40000"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	lines := strings.Split(b.String(), "\n")
	assert.Regexp(t, `^192\.168\.190\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET / HTTP/1\.1" 200 \d+$`, lines[0])
	assert.Regexp(t, `^192\.168\.190\.1 - - \[.*\] "GET /nope HTTP/1\.1" 404 19$`, lines[1])
}
