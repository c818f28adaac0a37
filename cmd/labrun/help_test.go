package main

import (
	"bytes"
	"github.com/labrun/labrun/netkit/names"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/cmd/labrun/classroom"
)

// runCLI runs labrun's command line in process and returns its exit status,
// stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestSubcommandHelp asks every subcommand (the hidden bench too) for its
// help in each way: labrun help NAME, NAME -h, -help and --help. Each
// exits 0 with the same text on stdout, which starts with its usage line.
func TestSubcommandHelp(t *testing.T) {
	for _, s := range subcommands {
		if s.name == classroom.KeeperCmd {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			code, want, stderr := runCLI("help", s.name)
			require.Equal(t, 0, code, "labrun help %s: exit status; stderr:\n%s", s.name, stderr)
			assert.Empty(t, stderr, "labrun help %s: stderr", s.name)
			assert.Regexp(t, `^usage: labrun `+s.name+`[ \n]`, want, "labrun help %s starts with its usage line", s.name)
			assert.Greater(t, len(strings.Split(want, "\n")), 3, "labrun help %s: a usage line and a description", s.name)
			for _, h := range []string{"-h", "-help", "--help"} {
				code, out, stderr := runCLI(s.name, h)
				assert.Equal(t, 0, code, "labrun %s %s: exit status; stderr:\n%s", s.name, h, stderr)
				assert.Equal(t, want, out, "labrun %s %s: the same text as labrun help %s", s.name, h, s.name)
			}
		})
	}
}

// TestHelp checks labrun help: the scenario run's usage and flags, then
// every listed subcommand with its summary; and its errors.
func TestHelp(t *testing.T) {
	code, out, _ := runCLI("help")
	require.Equal(t, 0, code, "labrun help: exit status")
	assert.True(t, strings.HasPrefix(out, "usage: labrun [flags] FILE|DIR...\n"), "labrun help starts with the usage:\n%s", out)
	for _, want := range []string{"\nFlags:\n", "  -run regexp\n", "\nCommands:\n", "labrun help COMMAND"} {
		assert.Contains(t, out, want, "labrun help")
	}
	for _, s := range subcommands {
		if s.usage == "" {
			assert.NotContains(t, out, "  "+s.name+" ", "labrun help lists the hidden %s", s.name)
			continue
		}
		assert.Regexp(t, `\n  `+s.name+` +`+regexpQuote(s.summary)+`\n`, out, "labrun help lists %s", s.name)
	}

	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"help", "exercize"}, "labrun help: unknown command \"exercize\"\nDid you mean 'labrun help exercise'?\nRun 'labrun help' for the commands.\n"},
		{[]string{"help", "zzz"}, "labrun help: unknown command \"zzz\"\nRun 'labrun help' for the commands.\n"},
		{[]string{"help", classroom.KeeperCmd}, "labrun help: unknown command \"" + classroom.KeeperCmd + "\"\nRun 'labrun help' for the commands.\n"},
		{[]string{"help", "up", "down"}, "usage: labrun help [-man] [COMMAND]\n"},
		{[]string{"help", "-x"}, "usage: labrun help [-man] [COMMAND]\n"},
	} {
		code, out, stderr := runCLI(tc.args...)
		assert.Equal(t, 2, code, "labrun %q: exit status", tc.args)
		assert.Empty(t, out, "labrun %q: stdout", tc.args)
		assert.Equal(t, tc.stderr, stderr, "labrun %q: stderr", tc.args)
	}
}

func regexpQuote(s string) string {
	return strings.NewReplacer(`(`, `\(`, `)`, `\)`, `.`, `\.`, `$`, `\$`, `|`, `\|`).Replace(s)
}

// TestUnknownCommand checks that a word that is neither a subcommand nor
// a file is named as such, with the nearest subcommand when one is near,
// and that existing files and directories stay scenario paths.
func TestUnknownCommand(t *testing.T) {
	const tail = "Run 'labrun help' for the commands and flags, or name an existing scenario file or directory.\n"
	for _, tc := range []struct {
		word, suggestion string
	}{
		{"inspekt", "inspect"},
		{"exercize", "exercise"},
		{"hlep", "help"},
		{"dow", "down"},
		{"diag", "diagram"},
		{"verison", "version"},
		{"shel", "shell"},
		{"completions", "completion"},
		{"xyzzy", ""},
	} {
		code, out, stderr := runCLI(tc.word, "x")
		assert.Equal(t, 2, code, "labrun %s: exit status", tc.word)
		assert.Empty(t, out, "labrun %s: stdout", tc.word)
		want := "labrun: unknown command or file \"" + tc.word + "\"\n"
		if tc.suggestion != "" {
			want += "Did you mean 'labrun " + tc.suggestion + "'?\n"
		}
		assert.Equal(t, want+tail, stderr, "labrun %s: stderr", tc.word)
	}

	// An existing file or directory named like a word is a scenario path;
	// paths and flags are never words.
	t.Chdir(t.TempDir())
	require.NoError(t, os.Mkdir("shel", 0o755))
	require.NoError(t, os.WriteFile("smoke", nil, 0o644))
	for _, arg := range []string{"shel", "smoke", "missing.txt", "./missing", "-v", "Scenarios"} {
		_, ok := lookupSubcommand(arg)
		assert.False(t, ok, "lookupSubcommand(%q): a scenario run", arg)
	}
	code, _, stderr := runCLI("shel")
	assert.Equal(t, 2, code, "labrun shel (a directory): exit status")
	assert.Equal(t, "labrun: no .txt or .txtar scenarios in shel\n", stderr, "labrun shel (a directory): stderr")
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"help", "help", 0}, {"hlep", "help", 1}, {"verison", "version", 1},
		{"exercize", "exercise", 1}, {"kitten", "sitting", 3}, {"ls", "up", 2},
	} {
		assert.Equal(t, tc.want, names.EditDistance(tc.a, tc.b), "EditDistance(%q, %q)", tc.a, tc.b)
		assert.Equal(t, tc.want, names.EditDistance(tc.b, tc.a), "EditDistance(%q, %q)", tc.b, tc.a)
	}
}

// TestVersion runs labrun version and --version, and checks versionLine
// on build informations of each kind.
func TestVersion(t *testing.T) {
	code, want, _ := runCLI("version")
	require.Equal(t, 0, code, "labrun version: exit status")
	assert.Regexp(t, `^labrun \S+\ncommit: .+\ngo:     go\S+ \w+/\w+\n$`, want, "labrun version")
	for _, arg := range []string{"--version", "-version"} {
		code, out, _ := runCLI(arg)
		assert.Equal(t, 0, code, "labrun %s: exit status", arg)
		assert.Equal(t, want, out, "labrun %s", arg)
	}
	code, _, stderr := runCLI("version", "extra")
	assert.Equal(t, 2, code, "labrun version extra: exit status")
	assert.Equal(t, "usage: labrun version\n", stderr, "labrun version extra: stderr")

	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "579ef04a3ef622dba23e85eff2d3e98f62592e69"},
		{Key: "vcs.time", Value: "2026-12-07T23:50:00Z"},
	}
	for _, tc := range []struct {
		info       *debug.BuildInfo
		head, vcs  string
		commit     string // buildCommit, set by make build
		commitTime string
	}{
		{info: nil, head: "labrun (devel)", vcs: "commit: none recorded"},
		{info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			head: "labrun (devel)", vcs: "commit: 579ef04a3ef622dba23e85eff2d3e98f62592e69 (2026-12-07T23:50:00Z)"},
		{info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: append(vcs, debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			head: "labrun v1.2.0", vcs: "commit: 579ef04a3ef622dba23e85eff2d3e98f62592e69 (2026-12-07T23:50:00Z, modified)"},
		{info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			head: "labrun (devel)", vcs: "commit: abc123 (2026-12-08T00:00:00Z)", commit: "abc123", commitTime: "2026-12-08T00:00:00Z"},
	} {
		buildCommit, buildTime = tc.commit, tc.commitTime
		got := versionLine(tc.info)
		lines := strings.Split(got, "\n")
		require.Len(t, lines, 3, "versionLine: three lines:\n%s", got)
		assert.Equal(t, tc.head, lines[0], "versionLine's first line")
		assert.True(t, strings.HasPrefix(lines[1], tc.vcs), "versionLine's commit line %q, want %q", lines[1], tc.vcs)
		assert.True(t, strings.HasPrefix(lines[2], "go:     go"), "versionLine's go line %q", lines[2])
	}
	buildCommit, buildTime = "", ""
}

// TestCompletion checks that each shell's script names every listed
// subcommand and the flags, and that the shell (when installed) parses it.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, script, stderr := runCLI("completion", sh)
		require.Equal(t, 0, code, "labrun completion %s: exit status; stderr:\n%s", sh, stderr)
		for _, s := range subcommands {
			if s.usage != "" {
				assert.Contains(t, script, s.name, "labrun completion %s names %s", sh, s.name)
			}
		}
		for _, want := range []string{"-pcap-dir", "-keep", "txtar"} {
			assert.Contains(t, script, want, "labrun completion %s", sh)
		}
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s is not installed: its script is not parsed", sh)
			continue
		}
		file := filepath.Join(t.TempDir(), "labrun."+sh)
		require.NoError(t, os.WriteFile(file, []byte(script), 0o644))
		out, err := exec.Command(path, "-n", file).CombinedOutput()
		assert.NoError(t, err, "%s -n accepts labrun completion %s:\n%s", sh, sh, out)
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		code, out, stderr := runCLI(args...)
		assert.Equal(t, 2, code, "labrun %q: exit status", args)
		assert.Empty(t, out, "labrun %q: stdout", args)
		assert.NotEmpty(t, stderr, "labrun %q: stderr", args)
	}
}

// TestBashCompletion runs the bash script's completion function on
// command lines, as bash does on TAB.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	_, script, _ := runCLI("completion", "bash")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "completion.bash"), []byte(script), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "scenarios"), 0o755))
	for _, f := range []string{"scenarios/nat.txt", "scenarios/notes.md", "scenarios/nat2.txtar"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	for _, tc := range []struct {
		line, want string
	}{
		{"labrun exe", "exercise"},
		{"labrun exercise ", "start check task list run"},
		{"labrun up -", "-keep -name -netns -world -h --help"},
		{"labrun world ", "ls show check line"},
		{"labrun -j 2 ver", "version"},
		{"labrun scenarios/n", "scenarios/nat.txt scenarios/nat2.txtar"},
		{"labrun completion ", "bash zsh fish"},
		{"labrun help do", "docker dockerd down"},
		{"labrun shell ", "host client gateway internet"},
		{"labrun -t", "-timeout"},
		{"labrun --v", "--version"},
	} {
		cmd := exec.Command(bash, "--norc", "-c", `source completion.bash; read -ra COMP_WORDS <<<"$LINE"; [[ $LINE == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _labrun; echo "${COMPREPLY[*]}"`)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LINE="+tc.line)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "completing %q:\n%s", tc.line, out)
		assert.ElementsMatch(t, strings.Fields(tc.want), strings.Fields(string(out)), "completing %q", tc.line)
	}
}

// TestManPage checks labrun help -man: a man page with every subcommand's
// section, the flags, and the scenario commands.
func TestManPage(t *testing.T) {
	code, page, _ := runCLI("help", "-man")
	require.Equal(t, 0, code, "labrun help -man: exit status")
	assert.True(t, strings.HasPrefix(page, `.\" Code generated`), "labrun help -man starts with its header")
	for _, want := range []string{".TH LABRUN 1", ".SH SYNOPSIS", ".SH OPTIONS", "\\fB\\-pcap\\-dir\\fR \\fIdir\\fR", ".SH COMMANDS", ".SH SCENARIO COMMANDS", ".B reach ", ".SH EXIT STATUS"} {
		assert.Contains(t, page, want, "labrun help -man")
	}
	for _, s := range subcommands {
		if s.usage != "" {
			assert.Contains(t, page, "\n.SS "+roff(s.name)+"\n", "labrun help -man: a section for %s", s.name)
		} else {
			assert.NotContains(t, page, "\n.SS "+s.name+"\n", "labrun help -man: a section for the hidden %s", s.name)
		}
	}
	assert.Contains(t, page, "run at most n scenarios at once (default: the number of CPUs)", "labrun help -man: -j's default")
	assert.NotRegexp(t, `at once \(default \d`, page, "labrun help -man: -j's default is this machine's CPUs")
	for i, line := range strings.Split(page, "\n") {
		assert.False(t, strings.HasPrefix(line, "'"), "line %d starts with ' (a roff control line): %q", i+1, line)
	}
	if man, err := exec.LookPath("man"); err == nil {
		file := filepath.Join(t.TempDir(), "labrun.1")
		require.NoError(t, os.WriteFile(file, []byte(page), 0o644))
		cmd := exec.Command(man, "-l", file)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
		out, err := cmd.Output()
		if assert.NoError(t, err, "man -l labrun.1") {
			assert.Contains(t, string(out), "labrun shell [-lab LAB] NODE", "man -l labrun.1")
		}
	}
}

func TestParseHelp(t *testing.T) {
	d := parseHelp("usage: labrun x [-a] FILE\n       labrun x list\n\nDoes x.\nReally.\n\nMore.\n  -a\tall of it\n  -n count\n    \thow many\n    \tat most\n")
	assert.Equal(t, []string{"x [-a] FILE", "x list"}, d.usage, "usage")
	assert.Equal(t, []string{"Does x.\nReally.", "More."}, d.paras, "paragraphs")
	assert.Equal(t, []flagHelp{{name: "a", term: "-a", text: "all of it"}, {name: "n", term: "-n count", text: "how many at most"}}, d.flags, "flags")
}

// TestFishCompletion asks fish (when installed) what the fish script
// completes on command lines.
func TestFishCompletion(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed")
	}
	_, script, _ := runCLI("completion", "fish")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "labrun.fish"), []byte(script), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "scenarios"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scenarios", "nat.txt"), nil, 0o644))
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"labrun exe", []string{"exercise"}},
		{"labrun exercise ", []string{"start", "check", "task", "list", "run"}},
		{"labrun up -", []string{"-keep", "-name", "-netns", "-world"}},
		{"labrun world ", []string{"ls", "show", "check", "line"}},
		{"labrun completion ", []string{"bash", "zsh", "fish"}},
		{"labrun scenarios/n", []string{"scenarios/nat.txt"}},
		{"labrun -j 2 vers", []string{"version"}},
	} {
		cmd := exec.Command(fish, "--no-config", "-c", `source labrun.fish; complete -C "$LINE"`)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LINE="+tc.line)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "completing %q:\n%s", tc.line, out)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			w, _, _ := strings.Cut(l, "\t")
			got = append(got, w)
		}
		assert.ElementsMatch(t, tc.want, got, "completing %q", tc.line)
	}
}

// TestMakeInstall runs make install into a temporary DESTDIR with a PREFIX
// of its own: labrun, its man page and the completions land there, and
// the installed labrun runs. It builds bin/labrun, as make build does.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds labrun with make: not in -short")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	dest := t.TempDir()
	cmd := exec.Command(mk, "-s", "install", "DESTDIR="+dest, "PREFIX=/opt/labrun")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make install:\n%s", out)
	root := filepath.Join(dest, "opt", "labrun")
	for _, f := range []string{"bin/labrun", "share/man/man1/labrun.1", "share/bash-completion/completions/labrun",
		"share/zsh/site-functions/_labrun", "share/fish/vendor_completions.d/labrun.fish"} {
		assert.FileExists(t, filepath.Join(root, f), "make install")
	}
	page, err := os.ReadFile(filepath.Join(root, "share/man/man1/labrun.1"))
	require.NoError(t, err)
	_, want, _ := runCLI("help", "-man")
	assert.Equal(t, want, string(page), "the installed man page is labrun help -man's")
	out, err = exec.Command(filepath.Join(root, "bin/labrun"), "version").CombinedOutput()
	require.NoError(t, err, "the installed labrun version:\n%s", out)
	assert.Regexp(t, `^labrun \S+\ncommit: [0-9a-f]{40}`, string(out), "the installed labrun version names its commit (make build records it)")
}

// zshStubs stand in for zsh's completion system, so that the zsh script's
// _labrun runs outside a completion: each prints what it would offer.
const zshStubs = `compdef() { }
compadd() { [[ $1 == -- ]] && shift; print -r -- $* }
_describe() { local -a a; a=("${(@P)4}"); print -r -- ${a%%:*} }
_files() { print -r -- FILES }
source ./labrun.zsh
words=(${(z)LINE})
[[ $LINE == *' ' ]] && words+=('')
CURRENT=${#words}
PREFIX=${words[-1]}
_labrun
`

// TestZshCompletion runs the zsh script's _labrun (when zsh is installed)
// on command lines, with zsh's completion functions stubbed.
func TestZshCompletion(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed")
	}
	_, script, _ := runCLI("completion", "zsh")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "labrun.zsh"), []byte(script), 0o644))
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"labrun ", append(commandNames(), "FILES")},
		{"labrun exercise ", []string{"start", "check", "task", "list", "run"}},
		{"labrun exercise start ", []string{"FILES"}},
		{"labrun up -", []string{"-keep", "-name", "-netns", "-world", "-h", "--help"}},
		{"labrun -j 2 ", append(commandNames(), "FILES")},
		{"labrun completion ", []string{"bash", "zsh", "fish"}},
		{"labrun help ", commandNames()},
		{"labrun -", []string{"-durations", "-j", "-json", "-junit", "-keep", "-pcap-dir", "-run", "-save-durations", "-shard", "-shards", "-timeout", "-u", "-v", "--version", "-h", "--help"}},
	} {
		cmd := exec.Command(zsh, "-f", "-c", zshStubs)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LINE="+tc.line)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "completing %q:\n%s", tc.line, out)
		assert.ElementsMatch(t, tc.want, strings.Fields(string(out)), "completing %q", tc.line)
	}
}
