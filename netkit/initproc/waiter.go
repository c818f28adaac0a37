package initproc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Waiter returns a command that starts the main process of a container that
// runs no program (Config.Program empty, as for busybox): a 180-byte program
// that does what ModeInit does for it and nothing else. It is nil, with no
// error, where no such program exists (only linux/amd64 has one): use
// Command then.
//
// It exists because re-executing labrun costs what labrun's package
// initialisation costs (about 10 ms of CPU before the process is ready, 7 ms
// of it gopacket's tables) and about 8 MB of PSS, for every container: a lab
// of 1000 containers would spend most of its start-up there. The waiter
// starts in about half a millisecond (fork and exec) and keeps 4–12 kB.
//
// It behaves as ModeInit does without a program: it names itself Comm (ps,
// pgrep, docker top see it; its command line is Comm alone), sets Hostname
// (in the private UTS namespace it must be started in), reports readiness
// by writing one byte on fd 3, ignores SIGINT, and exits with status 137 on
// SIGTERM (sh as PID 1 ignores SIGTERM until docker stop kills it: the kill
// is reported without waiting for it). It does not remount /sys: nothing
// runs in its mount namespace. It exits with status 126, before readiness,
// if it cannot set the hostname.
//
// The program is machine code held in memory (a sealed memfd), never a
// file: see waiterCode for its source.
func Waiter(cfg Config) (*exec.Cmd, error) {
	if cfg.Mode != ModeInit || cfg.Program != "" {
		return nil, fmt.Errorf("initproc: the waiter only replaces ModeInit without a program")
	}
	path, err := waiterPath()
	if err != nil || path == "" {
		return nil, err
	}
	name := cfg.Comm
	if name == "" {
		name = "labrun-init"
	}
	cmd := &exec.Cmd{Path: path, Args: []string{name}}
	// The program takes the hostname from its first environment string.
	cmd.Env = []string{}
	if cfg.Hostname != "" {
		cmd.Env = []string{cfg.Hostname}
	}
	return cmd, nil
}

// WaiterExe returns the waiter's program, open read-only, for starting it
// through its descriptor (netns.Spawn) with the Args and Env of Waiter's
// command. It is nil, with no error, where there is no waiter. The file is
// labrun's, kept open for its lifetime: never close it.
func WaiterExe() (*os.File, error) { return waiter.file() }

// waiterPath returns the path to execute the waiter at (see program.path).
func waiterPath() (string, error) { return waiter.path() }

var waiter = &program{name: "labrun-waiter", code: waiterCode}

// program is a tiny static program held in a sealed memfd, made once per
// process (on linux/amd64 only) and kept open.
type program struct {
	name string
	code []byte // x86-64 machine code, loaded at codeBase+elfHeaders

	once sync.Once
	f    *os.File
	err  error
}

// file returns the program's read-only descriptor, or nil where there is
// no such program.
func (p *program) file() (*os.File, error) {
	p.once.Do(func() {
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			return
		}
		p.f, p.err = loadProgram(p.name, elf(p.code))
		if p.err != nil {
			p.err = fmt.Errorf("initproc: loading %s: %w", p.name, p.err)
		}
	})
	return p.f, p.err
}

// path returns the path to execute the program at: /proc/self/fd/N of its
// descriptor, or "" where there is no such program. A child execs it
// through its own copy of that descriptor (close-on-exec: the exec'd
// program does not keep it).
func (p *program) path() (string, error) {
	f, err := p.file()
	if f == nil || err != nil {
		return "", err
	}
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())), nil
}

// loadProgram puts an executable image into a sealed memfd and returns a
// read-only descriptor of it.
func loadProgram(name string, image []byte) (*os.File, error) {
	// MFD_EXEC (Linux 6.3+) keeps it executable where vm.memfd_noexec
	// would make memfds non-executable by default; older kernels do not
	// know the flag.
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate(name, flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(name, flags)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if _, err := f.Write(image); err != nil {
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		return nil, fmt.Errorf("sealing: %w", err)
	}
	// A file open for writing cannot be executed (ETXTBSY): keep a
	// read-only descriptor and close the writable one.
	ro, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopening read-only: %w", err)
	}
	return os.NewFile(uintptr(ro), name), nil
}

// waiterCode is the waiter's machine code (x86-64, Linux system calls), as
// assembled by GNU as from this source (Intel syntax), loaded at
// codeBase+elfHeaders:
//
//	_start:
//		mov	rbx, [rsp+8]		# argv[0]
//		mov	rdi, [rsp]		# argc
//		mov	r12, [rsp+rdi*8+16]	# envp[0]: the hostname, or NULL
//		mov	edi, 15			# prctl(PR_SET_NAME, argv[0])
//		mov	rsi, rbx
//		mov	eax, 157
//		syscall
//		test	r12, r12
//		jz	2f
//		xor	esi, esi		# strlen(envp[0])
//	1:	cmp	byte ptr [r12+rsi], 0
//		je	3f
//		inc	rsi
//		jmp	1b
//	3:	mov	rdi, r12		# sethostname(envp[0], len)
//		mov	eax, 170
//		syscall
//		test	rax, rax
//		jnz	9f
//	2:	push	0x4002			# rt_sigprocmask(SIG_BLOCK, {INT, TERM}, NULL, 8)
//		xor	edi, edi
//		mov	rsi, rsp
//		xor	edx, edx
//		mov	r10d, 8
//		mov	eax, 14
//		syscall
//		test	rax, rax
//		jnz	9f
//		push	0x52			# write(3, "R", 1): ready
//		mov	edi, 3
//		mov	rsi, rsp
//		mov	edx, 1
//		mov	eax, 1
//		syscall
//		mov	edi, 3			# close(3)
//		mov	eax, 3
//		syscall
//		mov	qword ptr [rsp], 0x4000	# wait for TERM only: INT stays blocked, ignored
//	4:	mov	rdi, rsp		# rt_sigtimedwait({TERM}, NULL, NULL, 8)
//		xor	esi, esi
//		xor	edx, edx
//		mov	r10d, 8
//		mov	eax, 128
//		syscall
//		cmp	rax, 15
//		jne	4b
//		mov	edi, 137		# exit_group(137)
//		jmp	8f
//	9:	mov	edi, 126		# exit_group(126)
//	8:	mov	eax, 231
//		syscall
//
// Reproduce with: as -o w.o w.s && ld -static -nostdlib -o w w.o &&
// objcopy -O binary -j .text w w.bin && xxd -i w.bin
var waiterCode = []byte{
	0x48, 0x8b, 0x5c, 0x24, 0x08, 0x48, 0x8b, 0x3c, 0x24, 0x4c, 0x8b, 0x64,
	0xfc, 0x10, 0xbf, 0x0f, 0x00, 0x00, 0x00, 0x48, 0x89, 0xde, 0xb8, 0x9d,
	0x00, 0x00, 0x00, 0x0f, 0x05, 0x4d, 0x85, 0xe4, 0x74, 0x1d, 0x31, 0xf6,
	0x41, 0x80, 0x3c, 0x34, 0x00, 0x74, 0x05, 0x48, 0xff, 0xc6, 0xeb, 0xf4,
	0x4c, 0x89, 0xe7, 0xb8, 0xaa, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85,
	0xc0, 0x75, 0x69, 0x68, 0x02, 0x40, 0x00, 0x00, 0x31, 0xff, 0x48, 0x89,
	0xe6, 0x31, 0xd2, 0x41, 0xba, 0x08, 0x00, 0x00, 0x00, 0xb8, 0x0e, 0x00,
	0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x4b, 0x6a, 0x52, 0xbf,
	0x03, 0x00, 0x00, 0x00, 0x48, 0x89, 0xe6, 0xba, 0x01, 0x00, 0x00, 0x00,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x03, 0x00, 0x00, 0x00,
	0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0xc7, 0x04, 0x24, 0x00,
	0x40, 0x00, 0x00, 0x48, 0x89, 0xe7, 0x31, 0xf6, 0x31, 0xd2, 0x41, 0xba,
	0x08, 0x00, 0x00, 0x00, 0xb8, 0x80, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48,
	0x83, 0xf8, 0x0f, 0x75, 0xe6, 0xbf, 0x89, 0x00, 0x00, 0x00, 0xeb, 0x05,
	0xbf, 0x7e, 0x00, 0x00, 0x00, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05,
}

const (
	codeBase   = 0x400000 // load address
	elfHeaders = 64 + 2*56
)

// elf wraps machine code in a minimal static ELF executable: the ELF
// header, a PT_LOAD segment mapping the file (headers and code) read and
// execute at codeBase, and a PT_GNU_STACK entry asking for a non-executable
// stack. The code starts right after the headers.
func elf(code []byte) []byte {
	le := binary.LittleEndian
	size := uint64(elfHeaders + len(code))
	b := make([]byte, 0, size)
	// ELF header.
	b = append(b, 0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* System V */)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint16(b, 2)    // e_type: ET_EXEC
	b = le.AppendUint16(b, 0x3e) // e_machine: x86-64
	b = le.AppendUint32(b, 1)    // e_version
	b = le.AppendUint64(b, codeBase+elfHeaders)
	b = le.AppendUint64(b, 64) // e_phoff
	b = le.AppendUint64(b, 0)  // e_shoff
	b = le.AppendUint32(b, 0)  // e_flags
	b = le.AppendUint16(b, 64) // e_ehsize
	b = le.AppendUint16(b, 56) // e_phentsize
	b = le.AppendUint16(b, 2)  // e_phnum
	b = le.AppendUint16(b, 0)  // e_shentsize
	b = le.AppendUint16(b, 0)  // e_shnum
	b = le.AppendUint16(b, 0)  // e_shstrndx
	// PT_LOAD, R+X, the whole file at codeBase.
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 5)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, codeBase)
	b = le.AppendUint64(b, codeBase)
	b = le.AppendUint64(b, size)
	b = le.AppendUint64(b, size)
	b = le.AppendUint64(b, 0x1000)
	// PT_GNU_STACK, R+W.
	b = le.AppendUint32(b, 0x6474e551)
	b = le.AppendUint32(b, 6)
	b = append(b, make([]byte, 5*8)...)
	b = le.AppendUint64(b, 16)
	return append(b, code...)
}
