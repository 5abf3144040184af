package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

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
	var verbNames []string
	for _, v := range verbs {
		if !v.mode {
			verbNames = append(verbNames, v.name)
		}
	}
	check := func(line string, want []string) {
		t.Helper()
		if got := sorted(complete(t, path, line)); !slices.Equal(got, sorted(want)) {
			t.Errorf("%q completes to %q, want %q", line, got, sorted(want))
		}
	}
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

// The zsh completion is valid zsh and names every verb and option.
func TestZshCompletion(t *testing.T) {
	testenv.NeedTool(t, "zsh")
	if out, err := exec.Command("zsh", "-n", zshCompletion).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	b, err := os.ReadFile(zshCompletion)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verbs {
		if !v.mode && !regexp.MustCompile(`'`+v.name+`:`).Match(b) {
			t.Errorf("the zsh completion does not offer the verb %s", v.name)
		}
	}
	for _, o := range options {
		if !strings.Contains(string(b), "--"+o.name) {
			t.Errorf("the zsh completion does not know --%s", o.name)
		}
	}
}
