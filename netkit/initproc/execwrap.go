package initproc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Exec returns the command that runs cfg.Args (ModeExec) in the
// namespaces it is started in, with env as its environment (nil: labrun's,
// with cfg.Env added). Descriptor 3 must be a pipe to the parent: it
// closes when the program's execve succeeds, or carries the failure, which
// ExecFailure turns into text. cfg.NotifyExec is implied.
//
// On linux/amd64 the wrapper is a 392-byte program (see execWrapperCode)
// instead of a re-execution of labrun, which costs labrun's package
// initialisation (about 10 ms of CPU, most of it gopacket's tables) before
// every `on NODE` and `docker exec` command. Args[0] is looked up in env's
// PATH by the caller's side, as the child would.
func Exec(cfg Config, env []string) (*exec.Cmd, error) {
	if cfg.Mode != ModeExec || len(cfg.Args) == 0 {
		return nil, errors.New("initproc: Exec needs ModeExec and a command")
	}
	if env == nil {
		env = append(os.Environ(), cfg.Env...)
	} else {
		env = append(append([]string(nil), env...), cfg.Env...)
	}
	// Where the wrapper cannot be loaded (a kernel that refuses to
	// execute memfds), labrun's own wrapper does the same.
	wrapper, err := execWrapper.path()
	if err != nil || wrapper == "" || !cfg.RemountSys || len(cfg.Binds) > maxBinds {
		cfg.NotifyExec = true
		cmd, err := Command(cfg)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(env, cmd.Env[len(cmd.Env)-1])
		return cmd, nil
	}
	path, err := lookPath(cfg.Args[0], env)
	if err != nil {
		return nil, err
	}
	uts := ""
	if cfg.UTSFromPID != 0 {
		uts = "/proc/" + strconv.Itoa(cfg.UTSFromPID) + "/ns/uts"
	}
	name := cfg.Comm
	if name == "" {
		name = "labrun-init"
	}
	args := []string{name, uts, cfg.Hostname, strconv.Itoa(len(cfg.Binds))}
	for _, b := range cfg.Binds {
		args = append(args, b.Source, b.Target)
	}
	args = append(append(args, path), cfg.Args...)
	return &exec.Cmd{Path: wrapper, Args: args, Env: env}, nil
}

// ExecFailure returns the text of what an Exec command wrote on descriptor
// 3 when its program did not start.
func ExecFailure(msg []byte) string {
	if len(msg) == 2 && msg[0] >= 1 && int(msg[0]) <= len(execSteps) {
		err := syscall.Errno(msg[1])
		if step := execSteps[msg[0]-1]; step != "" {
			return step + ": " + err.Error()
		}
		return err.Error()
	}
	return string(msg) // labrun's own wrapper writes text
}

// execSteps name the wrapper's steps, as labrun's own wrapper words their
// failures ("" for execve, whose error is reported alone).
var execSteps = []string{"joining container UTS namespace", "making mounts private", "mounting /sys", "setting hostname", "", "bind-mounting files"}

// lookPath finds file as execve would be given it by a shell whose PATH is
// env's (labrun's own when env has none).
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	pathEnv, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv, found = v, true
		}
	}
	if !found {
		pathEnv = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

var execWrapper = &program{name: "labrun-exec", code: execWrapperCode}

// execWrapperCode is the exec wrapper's machine code (x86-64, Linux system
// calls), assembled by GNU as from this source (Intel syntax), loaded at
// codeBase+elfHeaders. Its command line is NAME UTS HOSTNAME N [SOURCE
// TARGET]×N PATH ARGV…: it joins the UTS namespace at path UTS (if not
// ""), makes the mounts of its (private) mount namespace slaves, mounts a
// sysfs of its network namespace on /sys, bind-mounts each SOURCE on its
// TARGET (N is one digit), sets HOSTNAME (if not "", in its private UTS
// namespace), marks descriptor 3 close-on-exec and executes PATH with
// ARGV and its environment. A failure writes two bytes on descriptor 3,
// the step (1–6) and the errno, and exits with status 127.
//
//	_start:
//		mov	rbx, rsp		# rbx: argc, then argv[], NULL, envp[]
//		mov	r12, [rbx+16]		# argv[1]: UTS namespace to join, or ""
//		cmp	byte ptr [r12], 0
//		je	1f
//		mov	r13b, 1			# step 1: joining the UTS namespace
//		mov	edi, -100		# openat(AT_FDCWD, argv[1], O_RDONLY|O_CLOEXEC)
//		mov	rsi, r12
//		mov	edx, 0x80000
//		mov	eax, 257
//		syscall
//		test	rax, rax
//		js	9f
//		mov	r14, rax
//		mov	rdi, rax		# setns(fd, CLONE_NEWUTS)
//		mov	esi, 0x4000000
//		mov	eax, 308
//		syscall
//		test	rax, rax
//		jnz	9f
//		mov	rdi, r14		# close(fd)
//		mov	eax, 3
//		syscall
//	1:	mov	r13b, 2			# step 2: making mounts private
//		xor	edi, edi		# mount(NULL, "/", NULL, MS_SLAVE|MS_REC, NULL)
//		lea	rsi, [rip+root]
//		xor	edx, edx
//		mov	r10d, 0x84000
//		xor	r8d, r8d
//		mov	eax, 165
//		syscall
//		test	rax, rax
//		jnz	9f
//		lea	rdi, [rip+sys]		# umount2("/sys", MNT_DETACH): errors ignored
//		mov	esi, 2
//		mov	eax, 166
//		syscall
//		mov	r13b, 3			# step 3: mounting /sys
//		lea	rdi, [rip+sysfs]	# mount("sysfs", "/sys", "sysfs", 0, NULL)
//		lea	rsi, [rip+sys]
//		mov	rdx, rdi
//		xor	r10d, r10d
//		xor	r8d, r8d
//		mov	eax, 165
//		syscall
//		test	rax, rax
//		jnz	9f
//		mov	r13b, 6			# step 6: bind-mounting files
//		mov	r12, [rbx+32]		# argv[3]: how many SOURCE TARGET pairs follow (one digit)
//		movzx	r14d, byte ptr [r12]
//		sub	r14d, 0x30
//		lea	r15, [rbx+40]		# r15: &argv[4]
//	5:	test	r14d, r14d
//		jle	6f
//		mov	rdi, [r15]		# mount(SOURCE, TARGET, NULL, MS_BIND, NULL)
//		mov	rsi, [r15+8]
//		xor	edx, edx
//		mov	r10d, 0x1000
//		xor	r8d, r8d
//		mov	eax, 165
//		syscall
//		test	rax, rax
//		jnz	9f
//		add	r15, 16
//		dec	r14d
//		jmp	5b
//	6:	mov	r12, [rbx+24]		# argv[2]: hostname, or ""
//		cmp	byte ptr [r12], 0
//		je	3f
//		mov	r13b, 4			# step 4: setting the hostname
//		xor	esi, esi		# strlen
//	2:	cmp	byte ptr [r12+rsi], 0
//		je	4f
//		inc	rsi
//		jmp	2b
//	4:	mov	rdi, r12		# sethostname(argv[2], len)
//		mov	eax, 170
//		syscall
//		test	rax, rax
//		jnz	9f
//	3:	mov	edi, 3			# fcntl(3, F_SETFD, FD_CLOEXEC)
//		mov	esi, 2
//		mov	edx, 1
//		mov	eax, 72
//		syscall
//		mov	r13b, 5			# step 5: execve(PATH, &ARGV, envp)
//		mov	rdi, [r15]
//		lea	rsi, [r15+8]
//		mov	rcx, [rbx]
//		lea	rdx, [rbx+rcx*8+16]
//		mov	eax, 59
//		syscall
//	9:	neg	rax			# write(3, {step, errno}, 2); exit_group(127)
//		shl	eax, 8
//		mov	al, r13b
//		push	rax
//		mov	edi, 3
//		mov	rsi, rsp
//		mov	edx, 2
//		mov	eax, 1
//		syscall
//		mov	edi, 127
//		mov	eax, 231
//		syscall
//	root:	.asciz	"/"
//	sys:	.asciz	"/sys"
//	sysfs:	.asciz	"sysfs"
//
// Reproduce with: as -o e.o e.s && ld -static -nostdlib -o e e.o &&
// objcopy -O binary -j .text e e.bin && xxd -i e.bin
var execWrapperCode = []byte{
	0x48, 0x89, 0xe3, 0x4c, 0x8b, 0x63, 0x10, 0x41, 0x80, 0x3c, 0x24, 0x00,
	0x74, 0x45, 0x41, 0xb5, 0x01, 0xbf, 0x9c, 0xff, 0xff, 0xff, 0x4c, 0x89,
	0xe6, 0xba, 0x00, 0x00, 0x08, 0x00, 0xb8, 0x01, 0x01, 0x00, 0x00, 0x0f,
	0x05, 0x48, 0x85, 0xc0, 0x0f, 0x88, 0x23, 0x01, 0x00, 0x00, 0x49, 0x89,
	0xc6, 0x48, 0x89, 0xc7, 0xbe, 0x00, 0x00, 0x00, 0x04, 0xb8, 0x34, 0x01,
	0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x0f, 0x85, 0x08, 0x01, 0x00,
	0x00, 0x4c, 0x89, 0xf7, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x41,
	0xb5, 0x02, 0x31, 0xff, 0x48, 0x8d, 0x35, 0x1c, 0x01, 0x00, 0x00, 0x31,
	0xd2, 0x41, 0xba, 0x00, 0x40, 0x08, 0x00, 0x45, 0x31, 0xc0, 0xb8, 0xa5,
	0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x0f, 0x85, 0xd7, 0x00,
	0x00, 0x00, 0x48, 0x8d, 0x3d, 0xfc, 0x00, 0x00, 0x00, 0xbe, 0x02, 0x00,
	0x00, 0x00, 0xb8, 0xa6, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x41, 0xb5, 0x03,
	0x48, 0x8d, 0x3d, 0xeb, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x35, 0xdf, 0x00,
	0x00, 0x00, 0x48, 0x89, 0xfa, 0x45, 0x31, 0xd2, 0x45, 0x31, 0xc0, 0xb8,
	0xa5, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x0f, 0x85, 0x9a,
	0x00, 0x00, 0x00, 0x41, 0xb5, 0x06, 0x4c, 0x8b, 0x63, 0x20, 0x45, 0x0f,
	0xb6, 0x34, 0x24, 0x41, 0x83, 0xee, 0x30, 0x4c, 0x8d, 0x7b, 0x28, 0x45,
	0x85, 0xf6, 0x7e, 0x27, 0x49, 0x8b, 0x3f, 0x49, 0x8b, 0x77, 0x08, 0x31,
	0xd2, 0x41, 0xba, 0x00, 0x10, 0x00, 0x00, 0x45, 0x31, 0xc0, 0xb8, 0xa5,
	0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x63, 0x49, 0x83,
	0xc7, 0x10, 0x41, 0xff, 0xce, 0xeb, 0xd4, 0x4c, 0x8b, 0x63, 0x18, 0x41,
	0x80, 0x3c, 0x24, 0x00, 0x74, 0x20, 0x41, 0xb5, 0x04, 0x31, 0xf6, 0x41,
	0x80, 0x3c, 0x34, 0x00, 0x74, 0x05, 0x48, 0xff, 0xc6, 0xeb, 0xf4, 0x4c,
	0x89, 0xe7, 0xb8, 0xaa, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0,
	0x75, 0x2f, 0xbf, 0x03, 0x00, 0x00, 0x00, 0xbe, 0x02, 0x00, 0x00, 0x00,
	0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x48, 0x00, 0x00, 0x00, 0x0f, 0x05,
	0x41, 0xb5, 0x05, 0x49, 0x8b, 0x3f, 0x49, 0x8d, 0x77, 0x08, 0x48, 0x8b,
	0x0b, 0x48, 0x8d, 0x54, 0xcb, 0x10, 0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f,
	0x05, 0x48, 0xf7, 0xd8, 0xc1, 0xe0, 0x08, 0x44, 0x88, 0xe8, 0x50, 0xbf,
	0x03, 0x00, 0x00, 0x00, 0x48, 0x89, 0xe6, 0xba, 0x02, 0x00, 0x00, 0x00,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x7f, 0x00, 0x00, 0x00,
	0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x2f, 0x00, 0x2f, 0x73, 0x79,
	0x73, 0x00, 0x73, 0x79, 0x73, 0x66, 0x73, 0x00,
}
