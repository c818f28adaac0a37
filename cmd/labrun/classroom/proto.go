package classroom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labrun/labrun/cmd/labrun/topology"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The keeper's control protocol. A client connects to the lab's socket
// (/run/labrun/LAB/sock, a unix stream socket), sends one request as a JSON
// line and reads replies, one JSON line each, until a final one (Exit or
// Error set). The shell request's first reply carries the PTY master as
// SCM_RIGHTS ancillary data.
//
//	client                          keeper
//	{"op":"exec","args":[docker ps]} →
//	                                ← {"stdout":"..."} ... {"exit":0}
//
// A docker command that attaches the caller's input (docker run -i/-t, exec
// -i/-t, attach) asks for it with {"stdin":true}: the client then sends its
// input as {"stdin":"..."} messages, {"eof":true} at its end, and its
// terminal's size as {"rows":R,"cols":C} when it changes; {"raw":true} and
// {"raw":false} switch its terminal to raw mode and back, as the docker CLI
// does while it is attached to a container's terminal.
//
//	{"op":"exec","args":[docker run -it busybox],"tty":true} →
//	                                ← {"raw":true} {"stdin":true}
//	{"stdin":"hostname\r"}          →
//	                                ← {"stdout":"..."} ... {"raw":false} {"exit":0}
//	{"op":"shell","node":"client"}   →
//	                                ← {"ok":true} + fd (PTY master)
//	                                ← {"exit":0}   (when the shell ends)
//
// A shell request with "stdio" set carries the client's stdin, stdout and
// stderr as SCM_RIGHTS instead: the command runs on them, without a PTY, so
// that its output reaches the client's pipes and files byte for byte and
// its stderr stays apart (as `docker exec` without -t, or `ssh host CMD`).
//
//	{"op":"shell","stdio":true} + fds 0, 1, 2 →
//	                                ← {"ok":true}
//	                                ← {"exit":0}   (when the command ends;
//	                                   the keeper kills it if the client
//	                                   hangs up first)

// Request ops.
const (
	opInfo     = "info"     // the lab's LabInfo
	opExec     = "exec"     // run a scenario command line (docker ...)
	opShell    = "shell"    // start a shell (or Args) in Node on a PTY
	opTopology = "topology" // the lab's topology.Topology
	opInspect  = "inspect"  // the lab's topology.LabInspect
	opCheck    = "check"    // run the exercise's checks
	opDown     = "down"     // shut the lab down
)

// request is what a client asks of the keeper.
type request struct {
	Op string `json:"op"`
	// Args: exec's command line; shell's program and arguments (empty
	// for an interactive shell).
	Args []string `json:"args,omitempty"`
	// Env: exec's and shell's environment additions (the caller's PATH,
	// TERM).
	Env []string `json:"env,omitempty"`
	// Node: the node a shell runs in.
	Node string `json:"node,omitempty"`
	// Rows and Cols: the shell's terminal size.
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// Stdio: shell: the request carries the client's stdin, stdout and
	// stderr (SCM_RIGHTS); run on them, without a PTY.
	Stdio bool `json:"stdio,omitempty"`
	// TTY: exec: the client's stdin is a terminal (of Rows and Cols).
	TTY bool `json:"tty,omitempty"`
	// Diagram: check: attach the topology to every failing check.
	Diagram bool `json:"diagram,omitempty"`
}

// reply is one message of the keeper.
type reply struct {
	Stdout   []byte               `json:"stdout,omitempty"`
	Stderr   []byte               `json:"stderr,omitempty"`
	OK       bool                 `json:"ok,omitempty"`
	Info     *LabInfo             `json:"info,omitempty"`
	Topology *topology.Topology   `json:"topology,omitempty"`
	Inspect  *topology.LabInspect `json:"inspect,omitempty"`
	Check    *CheckResult         `json:"check,omitempty"`
	// AskStdin: exec: send your input (inputMsg), the command reads it.
	AskStdin bool `json:"stdin,omitempty"`
	// Raw: exec: put your terminal in raw mode (true) or back (false).
	Raw *bool `json:"raw,omitempty"`
	// Exit ends the exchange with an exit status.
	Exit *int `json:"exit,omitempty"`
	// Error ends the exchange: the request could not be served.
	Error string `json:"error,omitempty"`
}

func (r reply) final() bool { return r.Exit != nil || r.Error != "" }

// inputMsg is what a client sends after an exec request: its input, its
// end, its terminal's new size.
type inputMsg struct {
	Stdin []byte `json:"stdin,omitempty"`
	EOF   bool   `json:"eof,omitempty"`
	Rows  uint16 `json:"rows,omitempty"`
	Cols  uint16 `json:"cols,omitempty"`
}

func exitReply(code int) reply { return reply{Exit: &code} }

// conn is one side of a control connection.
type conn struct {
	c   *net.UnixConn
	wmu sync.Mutex // one message at a time
	dec *json.Decoder
	// pending holds bytes read past the first reply of a shell request.
	pending []byte
}

func newConn(c *net.UnixConn) *conn { return &conn{c: c} }

func (c *conn) Close() error { return c.c.Close() }

// send writes one message as a JSON line.
func (c *conn) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err = c.c.Write(append(b, '\n'))
	return err
}

// sendFD writes one message with descriptors attached.
func (c *conn) sendFD(v any, fds ...int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _, err = c.c.WriteMsgUnix(append(b, '\n'), unix.UnixRights(fds...), nil)
	return err
}

// recv reads one message into v.
func (c *conn) recv(v any) error {
	if c.dec == nil {
		c.dec = json.NewDecoder(io.MultiReader(bytes.NewReader(c.pending), c.c))
	}
	return c.dec.Decode(v)
}

// recvFD reads the first reply of a request that carries a descriptor. It
// must come before any recv.
func (c *conn) recvFD(v any) (*os.File, error) {
	files, err := c.recvFDs(v)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	for _, f := range files[1:] {
		f.Close()
	}
	return files[0], nil
}

// recvFDs reads the first message of a connection, with the descriptors
// (up to maxFDs) that came with it. It must come before any recv.
func (c *conn) recvFDs(v any) ([]*os.File, error) {
	var data []byte
	var fds []int
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(maxFDs*4))
	for !bytes.Contains(data, []byte{'\n'}) {
		n, oobn, _, _, err := c.c.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
			if perr == nil {
				for _, m := range msgs {
					if rights, err := unix.ParseUnixRights(&m); err == nil {
						fds = append(fds, rights...)
					}
				}
			}
		}
		data = append(data, buf[:n]...)
		if err != nil {
			closeAll(fds)
			return nil, err
		}
		if n == 0 {
			closeAll(fds)
			return nil, io.ErrUnexpectedEOF
		}
	}
	line, rest, _ := bytes.Cut(data, []byte{'\n'})
	c.pending = rest
	if err := json.Unmarshal(line, v); err != nil {
		closeAll(fds)
		return nil, err
	}
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		unix.CloseOnExec(fd)
		files[i] = os.NewFile(uintptr(fd), fmt.Sprintf("fd%d", i))
	}
	return files, nil
}

// maxFDs is the most descriptors a message carries: a shell's stdin, stdout
// and stderr.
const maxFDs = 3

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// dial connects to a live lab's keeper.
func dial(name string) (*conn, error) {
	p := socketPath(name)
	c, err := net.DialTimeout("unix", p, 5*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no live lab %q of yours (labrun ls lists them; a lab is its maker's alone)", name)
		}
		return nil, fmt.Errorf("connecting to lab %q: %w", name, err)
	}
	return newConn(c.(*net.UnixConn)), nil
}

// call sends req to lab name's keeper and hands each reply to each until
// the final one, whose exit status (or error) it returns.
func call(name string, req request, each func(reply) error) (int, error) {
	c, err := dial(name)
	if err != nil {
		return 1, err
	}
	defer c.Close()
	if err := c.send(req); err != nil {
		return 1, fmt.Errorf("talking to lab %q: %w", name, err)
	}
	for {
		var r reply
		if err := c.recv(&r); err != nil {
			return 1, fmt.Errorf("lab %q: the keeper hung up: %w", name, err)
		}
		if each != nil {
			if err := each(r); err != nil {
				return 1, err
			}
		}
		if r.Error != "" {
			return 1, errors.New(r.Error)
		}
		if r.Exit != nil {
			return *r.Exit, nil
		}
	}
}
