package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

const (
	bashCompletion = "../../../dist/completions/portable-generator.bash"
	zshCompletion  = "../../../dist/completions/_portable-generator"
	// bashCompletionLib is what the bash-completion package installs; the
	// completion uses its helpers (_init_completion, _filedir).
	bashCompletionLib = "/usr/share/bash-completion/bash_completion"
)

// asCommandVar makes the test binary act as the command (TestMain): the
// completions run `portable-generator list` to find image names.
const asCommandVar = "PG_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommandVar) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// commandOnPath puts a portable-generator on PATH that is this test
// binary acting as the command, and returns the new PATH.
func commandOnPath(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n" + asCommandVar + "=1 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, program), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + ":" + os.Getenv("PATH")
}

// complete runs the bash completion on a command line (completing its
// last word, "" after a trailing space) and returns the candidates.
func complete(t *testing.T, path, line string) []string {
	t.Helper()
	script := `source ` + bashCompletionLib + `
source ` + bashCompletion + `
COMP_LINE=$1; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_portable_generator
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command("bash", "-c", script, "bash", line)
	cmd.Env = append(os.Environ(), "PATH="+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return strings.Fields(string(out))
}

// optionWords are the words the completion offers for an option: --NAME=
// when it takes a value, --NAME when not, both when the value is optional.
// verbWords are the verbs (not the modes, such as --dry-run) a completion
// offers first.
func verbWords() []string {
	var names []string
	for _, v := range verbs {
		if !v.mode {
			names = append(names, v.name)
		}
	}
	return names
}

// completionCheck returns a check that the completion complete, run with
// path as PATH, completes a command line to the words want, in any order.
func completionCheck(t *testing.T, complete func(t *testing.T, path, line string) []string, path string) func(line string, want []string) {
	return func(line string, want []string) {
		t.Helper()
		if got := sorted(complete(t, path, line)); !slices.Equal(got, sorted(want)) {
			t.Errorf("%q completes to %q, want %q", line, got, sorted(want))
		}
	}
}

func optionWords(names ...string) []string {
	var words []string
	for _, n := range names {
		o := lookupOption(n)
		if o.arg == "" || o.optionalArg {
			words = append(words, "--"+n)
		}
		if o.arg != "" {
			words = append(words, "--"+n+"=")
		}
	}
	return sorted(words)
}

// The bash completion offers what the tables define: the verbs first,
// then each verb's options, image names for inspect and --dry-run.
func TestBashCompletion(t *testing.T) {
	testenv.NeedTool(t, "bash")
	if _, err := os.Stat(bashCompletionLib); err != nil {
		testenv.Unavailable(t, "bash-completion not installed (just deps)")
	}
	path := commandOnPath(t)
	root := testRoot(t)
	verbNames := verbWords()
	check := completionCheck(t, complete, path)
	check("portable-generator ", verbNames)
	check("portable-generator --root="+root+" ", verbNames)
	check("portable-generator insp", []string{"inspect"})
	modeOptions := append(optionWords("help", "version"), optionWords(lookupVerb("--dry-run").options...)...)
	check("portable-generator --", modeOptions)
	for _, v := range verbs {
		if v.mode {
			continue
		}
		check("portable-generator "+v.name+" --", append(optionWords("help", "version"), optionWords(v.options...)...))
	}
	check("portable-generator list --json=", []string{"pretty", "short", "off"})
	check("portable-generator --root="+root+" inspect ", []string{"bar", "foo"})
	check("portable-generator --root "+root+" inspect f", []string{"foo"})
	check("portable-generator inspect --root="+root+" foo ", nil)
	check("portable-generator --dry-run --root="+root+" ", []string{"bar", "foo"})
	check("portable-generator list ", nil)
}

// zshDriver completes a command line in an interactive zsh, on a pseudo
// terminal as a user's shell is (zsh/zpty: zsh completes only inside its
// line editor), with compinit and the completion functions of a directory;
// it prints each candidate the completion adds, one a line.
//
//	zsh -f driver.zsh DIR LINE
const zshDriver = `zmodload zsh/zpty || exit 1
dir=$1 line=$2
zpty c zsh -f -i
zpty -w c 'PS1= PS2= RPS1='
zpty -w c "fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D"
# compadd reports each candidate it adds, marked; the calls that only ask
# for matches (-O, -A, -D) are left alone. The markers are split in what
# is typed, so that the terminal's echo of it never matches.
zpty -w c 'compadd() {
  if (( ${argv[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
  local -a __pg_m; builtin compadd -O __pg_m "$@"; print -rl -- "<""M>"${^__pg_m}; builtin compadd "$@"
}'
zpty -w c '_pg_end() { print -r -- "<""END>"; exit }; comppostfuncs=(_pg_end)'
zpty -w c 'print -r -- "<""READY>"'
while zpty -r c out; do [[ $out == *"<READY>"* ]] && break; done
zpty -w -n c "$line"$'\t'
while zpty -r c out; do
  out=${out//[$'\r\n']/}
  [[ $out == *"<END>"* ]] && break
  [[ $out == *"<M>"* ]] && print -r -- ${out##*<M>}
done
zpty -d c
`

// zshComplete runs the zsh completion on a command line (completing its
// last word, "" after a trailing space) and returns the candidates.
func zshComplete(t *testing.T, path, line string) []string {
	t.Helper()
	dir := t.TempDir()
	driver := filepath.Join(dir, "driver.zsh")
	if err := os.WriteFile(driver, []byte(zshDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	completions, err := filepath.Abs(filepath.Dir(zshCompletion))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "zsh", "-f", driver, completions, line)
	cmd.Env = append(os.Environ(), "PATH="+path, "TERM=vt100")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return strings.Fields(string(out))
}

// The zsh completion, run by zsh's completion system as a user's Tab
// runs it, offers what the tables define: the verbs first, then each
// verb's options (zsh shows an option taking a value without its "="),
// the --json modes, and image names for inspect and --dry-run, from the
// tree --root names before or after the verb.
func TestZshCompletion(t *testing.T) {
	testenv.NeedTool(t, "zsh")
	if out, err := exec.Command("zsh", "-n", zshCompletion).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	path := commandOnPath(t)
	root := testRoot(t)
	verbNames := verbWords()
	optionNames := func(names ...string) []string {
		var words []string
		for _, n := range names {
			words = append(words, "--"+n)
		}
		return words
	}
	check := completionCheck(t, zshComplete, path)
	check("portable-generator ", verbNames)
	check("portable-generator --root="+root+" ", verbNames)
	check("portable-generator insp", []string{"inspect"})
	check("portable-generator --", optionNames(append([]string{"help", "version"}, lookupVerb("--dry-run").options...)...))
	for _, v := range verbs {
		if v.mode {
			continue
		}
		check("portable-generator "+v.name+" --", optionNames(append([]string{"help", "version"}, v.options...)...))
	}
	check("portable-generator list --json=", []string{"pretty", "short", "off"})
	images := []string{"bar", "foo"}
	check("portable-generator --root="+root+" inspect ", images)
	check("portable-generator inspect --root="+root+" ", images)
	check("portable-generator --root "+root+" inspect f", []string{"foo"})
	check("portable-generator inspect --root "+root+" --json ", images)
	check("portable-generator --dry-run --root="+root+" ", images)
	check("portable-generator --dry-run --root="+root+" foo ", images)
	// inspect takes one NAME: after it, no more image names.
	if got := zshComplete(t, path, "portable-generator inspect --root="+root+" foo "); slices.Contains(got, "bar") {
		t.Errorf("a second NAME for inspect is offered: %q", got)
	}
}
