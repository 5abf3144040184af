package testenv

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the repository's top, from this package's directory.
const repoRoot = "../.."

// notFromDebian are the programs the README has installed another way
// (Go from the Go project's release) and the helper's own test of a
// missing program.
var notFromDebian = []string{"go", "pg-no-such-tool"}

// Programs the tests ask for by name: NeedTool and HaveTool with string
// literals, and the first literal of exec.Command and run(ctx, ...).
var (
	needTool = regexp.MustCompile(`(?:NeedTool|HaveTool)\(t, ((?:"[^"]+"(?:, )?)+)\)`)
	literal  = regexp.MustCompile(`"([^"]+)"`)
	command  = regexp.MustCompile(`(?:exec\.Command(?:Context)?|\brun)\((?:[A-Za-z.()]+, )?"([a-z0-9][a-z0-9._+-]*)"`)
)

// programsTestsRun lists the programs the repository's tests run.
func programsTestsRun(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "build" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range needTool.FindAllStringSubmatch(string(b), -1) {
			for _, l := range literal.FindAllStringSubmatch(m[1], -1) {
				seen[l[1]] = true
			}
		}
		for _, m := range command.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// justDeps returns the Debian packages `just deps` installs.
func justDeps(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "justfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^apt_packages := "([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("justfile: no apt_packages")
	}
	return strings.Fields(string(m[1]))
}

// spellings are the paths under which dpkg may know the program at path:
// as found, its target, and each other spelling across the /usr merge.
func spellings(path string) []string {
	out := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		out = append(out, real)
	}
	for _, c := range slices.Clone(out) {
		if rest, ok := strings.CutPrefix(c, "/usr"); ok {
			out = append(out, rest)
		} else {
			out = append(out, "/usr"+c)
		}
	}
	return out
}

// owners asks dpkg, once, which package installed each path: path to
// package, for the paths some package installed.
func owners(paths []string) map[string]string {
	// dpkg-query fails when a path belongs to no package, and still
	// prints the others: its exit status says nothing here.
	out, _ := exec.Command("dpkg-query", append([]string{"-S"}, paths...)...).Output()
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		// "pkg1, pkg2: /path"; a diversion line names no package of its own.
		pkgs, file, ok := strings.Cut(line, ": ")
		if !ok || strings.HasPrefix(pkgs, "diversion by") {
			continue
		}
		pkg, _, _ := strings.Cut(pkgs, ",")
		pkg, _, _ = strings.Cut(pkg, ":") // an architecture qualifier
		m[file] = pkg
	}
	return m
}

// onEveryDebian reports whether a package is on every installed Debian 12
// system: essential, or of priority required or important (what the
// installer puts on every system, before any task).
func onEveryDebian(t *testing.T, pkg string) bool {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Essential} ${Priority}", pkg).Output()
	if err != nil {
		t.Fatalf("dpkg-query %s: %v", pkg, err)
	}
	f := strings.Fields(string(out))
	return len(f) == 2 && (f[0] == "yes" || f[1] == "required" || f[1] == "important")
}

// The README promises that `just test` and `just demo` install what they
// need on a fresh Debian 12 (`just deps`). Every program a test runs comes
// from a package `just deps` installs, or from one every Debian system
// has: a program that came with a package of lower priority (gpg, xz)
// passes here and fails on a fresh machine.
func TestJustDepsInstallWhatTestsRun(t *testing.T) {
	NeedTool(t, "dpkg-query")
	deps := justDeps(t)
	programs := programsTestsRun(t)
	if len(programs) < 20 {
		t.Fatalf("found only %d programs the tests run: %q", len(programs), programs)
	}
	found := map[string]string{} // program to its path
	var paths []string
	for _, prog := range programs {
		if slices.Contains(notFromDebian, prog) {
			continue
		}
		path, err := exec.LookPath(prog)
		if err != nil {
			// The test that needs it says so (NeedTool); here, nothing
			// tells which package would bring it.
			t.Logf("%s: not installed here", prog)
			continue
		}
		found[prog] = path
		paths = append(paths, spellings(path)...)
	}
	owner := owners(paths)
	for prog, path := range found {
		pkg := ""
		for _, p := range spellings(path) {
			if pkg = owner[p]; pkg != "" {
				break
			}
		}
		switch {
		case pkg == "":
			t.Errorf("%s (%s) comes from no Debian package: installed by hand, which a fresh machine lacks", prog, path)
		case !slices.Contains(deps, pkg) && !onEveryDebian(t, pkg):
			t.Errorf("%s comes from the package %s, which `just deps` does not install (justfile apt_packages) and a minimal Debian 12 lacks", prog, pkg)
		}
	}
}
