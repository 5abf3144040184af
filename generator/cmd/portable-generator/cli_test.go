package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// call runs the command line as main does and returns what it printed.
func call(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	code = run(args, &out, &errw)
	return code, out.String(), errw.String()
}

// testRoot builds a tree with two directory images under
// /var/lib/portables: foo, which attaches, and bar, which has no os-release
// and is skipped.
func testRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	foo := filepath.Join(root, "var/lib/portables/foo")
	for _, d := range []string{"usr/lib/systemd/system", "etc", "proc", "sys", "dev", "run", "tmp", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(foo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		"usr/lib/os-release":                 "ID=test\n",
		"usr/lib/systemd/system/foo.service": "[Service]\nExecStart=/bin/true\n",
		"etc/resolv.conf":                    "",
		"etc/machine-id":                     "",
	} {
		if err := os.WriteFile(filepath.Join(foo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "var/lib/portables/bar"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// Every verb's --help (after the verb or before it) and the overview name
// every verb and each option the verb takes.
func TestHelp(t *testing.T) {
	code, out, errw := call("--help")
	if code != 0 || errw != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errw)
	}
	for _, v := range verbs {
		if !strings.Contains(out, strings.TrimPrefix(v.synopsis, "[OPTIONS] ")) {
			t.Errorf("--help lacks %q:\n%s", v.synopsis, out)
		}
	}
	for _, o := range options {
		if !strings.Contains(out, optionSpelling(o)) {
			t.Errorf("--help lacks %s:\n%s", optionSpelling(o), out)
		}
	}
	if _, short, _ := call("-h"); short != out {
		t.Errorf("-h differs from --help")
	}
	for _, v := range verbs {
		word := v.name
		if v.name == "generator" {
			continue // generator mode has no word: its help is the overview's
		}
		for _, args := range [][]string{{word, "--help"}, {"--help", word}, {word, "-h", "--root=/nowhere"}} {
			code, out, errw := call(args...)
			if code != 0 || errw != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errw)
			}
			if !strings.HasPrefix(out, program+" "+v.synopsis+"\n") {
				t.Errorf("%q does not start with the synopsis:\n%s", args, out)
			}
			for _, o := range v.options {
				if !strings.Contains(out, optionSpelling(*lookupOption(o))) {
					t.Errorf("%q lacks --%s:\n%s", args, o, out)
				}
			}
			if !strings.Contains(out, "Exit status:") {
				t.Errorf("%q lacks the exit status:\n%s", args, out)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"list", "--version"}} {
		code, out, _ := call(args...)
		if code != 0 || !strings.HasPrefix(out, program+" ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%q: exit %d, %q", args, code, out)
		}
	}
}

// A bad command line gets one line naming the problem and exit 2, before
// anything is read.
func TestBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no verb given"},
		{[]string{"frob"}, `unknown verb "frob"`},
		{[]string{"relative/dir"}, `unknown verb "relative/dir"`},
		{[]string{"--frob"}, "unknown option --frob"},
		{[]string{"-x", "list"}, "unknown option -x"},
		{[]string{"list", "extra"}, `list: unexpected argument "extra"`},
		{[]string{"inspect"}, "inspect needs NAME"},
		{[]string{"inspect", "a", "b"}, `inspect: unexpected argument "b"`},
		{[]string{"dissect"}, "dissect needs PATH"},
		{[]string{"dissect", "--root=/", "x.raw"}, "dissect does not take --root"},
		{[]string{"list", "--dry-run"}, "list does not take --dry-run"},
		{[]string{"reconcile", "--json"}, "reconcile does not take --json"},
		{[]string{"reconcile", "now"}, `reconcile: unexpected argument "now"`},
		{[]string{"--root"}, "--root needs a value"},
		{[]string{"--root=", "list"}, "--root needs a directory"},
		{[]string{"--systemd-version=x", "list"}, "not a systemd version number"},
		{[]string{"--json=loud", "list"}, "expected pretty, short or off"},
		{[]string{"--dry-run=yes"}, "--dry-run takes no value"},
		{[]string{"--dry-run", "/run/x"}, "is not an image name"},
		{[]string{"/a", "/b"}, "one or three output directories"},
		{[]string{"/a", "b", "c"}, `absolute directories, not "b"`},
		{[]string{"/a", "/b", "/c", "/d"}, `unexpected argument "/d"`},
	} {
		code, out, errw := call(tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errw, tc.want) || strings.Count(errw, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, out, errw, tc.want)
		}
	}
}

// The verbs' exit statuses on a tree with an attached image (foo) and a
// skipped one (bar); options go before or after the verb.
func TestExitStatus(t *testing.T) {
	root := testRoot(t)
	rootOpt := "--root=" + root
	for _, tc := range []struct {
		args    []string
		code    int
		stdout  string // a substring of stdout
		message string // a substring of stderr
	}{
		{[]string{rootOpt, "list"}, 0, "foo   attached", ""},
		{[]string{"list", rootOpt, "--systemd-version=252"}, 0, "bar   skipped", ""},
		{[]string{"list", "--json=short", rootOpt}, 0, `"name":"foo"`, ""},
		{[]string{"inspect", "foo", rootOpt}, 0, "files (systemd 252", ""},
		{[]string{rootOpt, "inspect", "--json", "bar"}, 1, `"attached": false`, ""},
		{[]string{rootOpt, "inspect", "nosuch"}, 1, "", "nosuch: no image of that name"},
		{[]string{"--root=" + filepath.Join(root, "nowhere"), "inspect", "foo"}, 2, "", "cannot read"},
		{[]string{"--root=" + filepath.Join(root, "nowhere"), "list"}, 1, "", "cannot read"},
		{[]string{rootOpt, "--dry-run", "foo"}, 0, "# foo.service\n", ""},
		{[]string{"--dry-run", rootOpt}, 0, "# foo.service.d/20-portable.conf\n", ""},
		{[]string{rootOpt, "--dry-run", "nosuch"}, 1, "", "nosuch: no image of that name"},
		{[]string{rootOpt, "--dry-run", "bar"}, 1, "", "bar: not attached (skipped)"},
		{[]string{rootOpt, "--dry-run", "--", "list"}, 1, "", "list: no image of that name"},
		{[]string{"dissect", filepath.Join(root, "var/lib/portables/foo")}, 0, "foo.service", ""},
		{[]string{"dissect", "--json", filepath.Join(root, "var/lib/portables/foo")}, 0, `"osRelease": [`, ""},
		{[]string{"dissect", filepath.Join(root, "nosuch.raw")}, 1, "", "nosuch.raw"},
	} {
		args := tc.args
		if args[0] != "dissect" {
			args = append(args, "--systemd-version=252")
		}
		code, out, errw := call(args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errw, tc.message) {
			t.Errorf("%q: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, out, errw)
		}
	}
}

// Generator mode writes into the first directory and exits 0, even with a
// skipped image beside the attached one.
func TestGeneratorMode(t *testing.T) {
	root := testRoot(t)
	for _, n := range []int{1, 3} {
		var dirs []string
		for range n {
			dirs = append(dirs, t.TempDir())
		}
		code, out, errw := call(append([]string{"--root=" + root, "--systemd-version=252"}, dirs...)...)
		if code != 0 || out != "" {
			t.Fatalf("%d directories: exit %d, stdout %q, stderr %q", n, code, out, errw)
		}
		if _, err := os.Stat(filepath.Join(dirs[0], "foo.service")); err != nil {
			t.Errorf("%d directories: %v", n, err)
		}
		for _, d := range dirs[1:] {
			if ents, _ := os.ReadDir(d); len(ents) != 0 {
				t.Errorf("%s: written to, want only the first directory", d)
			}
		}
	}
}

// No text from an image reaches the terminal raw: list, inspect and
// dissect print control characters from names, os-release and
// machine-info escaped.
func TestOutputsEscapeImageText(t *testing.T) {
	root := testRoot(t)
	foo := filepath.Join(root, "var/lib/portables/foo")
	for name, content := range map[string]string{
		"usr/lib/os-release": "ID=test\nPRETTY_NAME=\"\x1b]2;owned\x07\"\nPORTABLE_PREFIXES=\"foo \x1b[2Jbar\"\n",
		"etc/machine-info":   "PRETTY_HOSTNAME=\"\xc2\x9b31m\"\n",
	} {
		if err := os.WriteFile(filepath.Join(foo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	evil := filepath.Join(root, "var/lib/portables", "ev\x1b[31mil\nname")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string // the image's text, escaped
	}{
		{[]string{"list"}, `ev\x1b[31mil\nname`},
		{[]string{"inspect", "foo"}, "foo"},
		{[]string{"inspect", "ev\x1b[31mil\nname"}, `ev\x1b[31mil\nname`},
		{[]string{"--dry-run", "ev\x1b[31mil\nname"}, `ev\x1b[31mil\nname`},
		{[]string{"dissect", foo}, `PRETTY_NAME=\x1b]2;owned\x07`},
		{[]string{"dissect", foo}, `PRETTY_HOSTNAME=\u+009b31m`},
		{[]string{"dissect", evil}, `ev\x1b[31mil\nname`},
	} {
		args := tc.args
		if args[0] != "dissect" {
			args = append(args, "--root="+root, "--systemd-version=252")
		}
		_, out, errw := call(args...)
		if !strings.Contains(out+errw, tc.want) {
			t.Errorf("%q does not show %s:\n%s\n%s", args, tc.want, out, errw)
		}
		for _, b := range []byte(out + errw) {
			if b < 0x20 && b != '\n' || b == 0x7f {
				t.Errorf("%q printed the control byte %#x:\n%q\n%q", args, b, out, errw)
				break
			}
		}
		if strings.Contains(out+errw, "\u009b") {
			t.Errorf("%q printed a C1 control:\n%q", args, out+errw)
		}
	}
}

// list and inspect show what the last run decided where it differs from
// today's view: the verdicts PID 1 loaded, which an admin asks about after
// a boot.
func TestLastRun(t *testing.T) {
	root := testRoot(t)
	opts := []string{"--root=" + root, "--systemd-version=252"}
	withOpts := func(args ...string) []string { return append(args, opts...) }

	_, out, _ := call(withOpts("list")...)
	if !strings.Contains(out, "No run of the generator recorded") {
		t.Errorf("list before any run:\n%s", out)
	}
	// The boot's run: foo attached, bar skipped.
	if code, _, errw := call(withOpts(t.TempDir())...); code != 0 {
		t.Fatalf("generator mode: exit %d: %s", code, errw)
	}
	_, out, _ = call(withOpts("list")...)
	if !regexp.MustCompile(`The last run \(boot at [^)]+\) decided the same`).MatchString(out) {
		t.Errorf("list after the boot's run:\n%s", out)
	}
	_, out, _ = call(withOpts("inspect", "bar")...)
	if !regexp.MustCompile(`at the last run \(boot at [^)]+\): skipped because no os-release .*, as now\n`).MatchString(out) {
		t.Errorf("inspect bar:\n%s", out)
	}

	// Since then foo lost its os-release and bar gained one.
	foo, bar := filepath.Join(root, "var/lib/portables/foo"), filepath.Join(root, "var/lib/portables/bar")
	if err := os.Rename(filepath.Join(foo, "usr/lib/os-release"), filepath.Join(t.TempDir(), "os-release")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(bar); err != nil {
		t.Fatal(err)
	}
	_, out, _ = call(withOpts("list")...)
	for _, want := range []string{`At the last run \(boot at [^)]+\), where it differs:`, `\nbar +skipped +/var/lib/portables/bar +no os-release`, `\nfoo +attached +/var/lib/portables/foo *\n`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	code, out, _ := call(withOpts("inspect", "foo")...)
	if code != 1 || !regexp.MustCompile(`at the last run \(boot at [^)]+\): attached\n`).MatchString(out) {
		t.Errorf("inspect foo: exit %d\n%s", code, out)
	}
	_, out, _ = call(withOpts("list", "--json")...)
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, e := range entries {
		byName[e["name"].(string)] = e
	}
	if last, _ := byName["foo"]["lastRun"].(map[string]any); last["state"] != "attached" || last["boot"] != true {
		t.Errorf("list --json: foo's lastRun is %v", byName["foo"]["lastRun"])
	}
	if byName["bar"]["state"] != "not-found" || byName["bar"]["lastRun"].(map[string]any)["state"] != "skipped" {
		t.Errorf("list --json: bar is %v", byName["bar"])
	}

	// A reload records the new verdicts: nothing differs any more.
	if code, _, errw := call(withOpts(t.TempDir())...); code != 0 {
		t.Fatalf("generator mode: exit %d: %s", code, errw)
	}
	_, out, _ = call(withOpts("list")...)
	if !regexp.MustCompile(`The last run \(reload at [^)]+\) decided the same`).MatchString(out) {
		t.Errorf("list after a reload:\n%s", out)
	}
}

// inspect says whether an attached image starts at boot, and points an
// admin who would reach for systemctl enable to Enable=yes.
func TestInspectEnablement(t *testing.T) {
	root := testRoot(t)
	unit := filepath.Join(root, "var/lib/portables/foo/usr/lib/systemd/system/foo.service")
	if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ := call("inspect", "foo", "--root="+root, "--systemd-version=252")
	if !strings.Contains(out, "enabled: no: start it with systemctl start, or set Enable=yes in /etc/systemd/portable/foo.portable") {
		t.Errorf("inspect of an image without Enable=yes:\n%s", out)
	}
	settings := filepath.Join(root, "etc/systemd/portable")
	if err := os.MkdirAll(settings, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(settings, "foo.portable"), []byte("[Portable]\nEnable=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = call("inspect", "foo", "--root="+root, "--systemd-version=252")
	if !strings.Contains(out, "enabled: yes") || !strings.Contains(out, "multi-user.target.wants/foo.service -> ") {
		t.Errorf("inspect of an image with Enable=yes:\n%s", out)
	}
	if _, out, _ = call("inspect", "--json", "foo", "--root="+root, "--systemd-version=252"); !strings.Contains(out, `"enabled": true`) {
		t.Errorf("inspect of an image with Enable=yes:\n%s", out)
	}
}

// A typo in a settings file leaves the image attached but not as asked:
// list shows the warning under its table, not only inspect and the
// journal, and list --json carries it on the image's entry.
func TestListShowsWarnings(t *testing.T) {
	root := testRoot(t)
	settings := filepath.Join(root, "etc/systemd/portable")
	if err := os.MkdirAll(settings, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(settings, "foo.portable"), []byte("[Portable]\nEnabled=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const warning = "foo: /var/lib/portables/foo: /etc/systemd/portable/foo.portable:2: unknown key Enabled= ignored\n"
	code, out, errw := call("list", "--root="+root, "--systemd-version=252")
	if code != 0 || !strings.Contains(out, "\n\nWarnings:\n"+warning) {
		t.Errorf("list: exit %d\n%s%s", code, out, errw)
	}
	// The completions read list's first column up to the first blank line.
	if table, _, _ := strings.Cut(out, "\n\n"); strings.Contains(table, "Enabled=") {
		t.Errorf("the warning is in the table:\n%s", out)
	}
	_, out, _ = call("list", "--json", "--root="+root, "--systemd-version=252")
	var entries []struct {
		Name     string   `json:"name"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == "foo" && (len(e.Warnings) != 1 || !strings.HasSuffix(warning, e.Warnings[0]+"\n")) {
			t.Errorf("list --json: foo's warnings are %q", e.Warnings)
		}
	}
	if _, out, _ = call("list", "--root="+testRoot(t), "--systemd-version=252"); strings.Contains(out, "Warnings:") {
		t.Errorf("list without warnings prints the heading:\n%s", out)
	}
}

// Every list in the JSON is a list: a skipped image has "units": [], not
// null, in list --json and in inspect --json.
func TestJSONUnitsAreLists(t *testing.T) {
	root := testRoot(t)
	for _, args := range [][]string{{"list", "--json"}, {"list", "--json=short"}, {"inspect", "--json", "bar"}} {
		_, out, _ := call(append(args, "--root="+root, "--systemd-version=252")...)
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
		if args[0] == "inspect" {
			v = v.(map[string]any)["entries"]
		}
		entries := v.([]any)
		if len(entries) == 0 {
			t.Fatalf("%q: no entries:\n%s", args, out)
		}
		for _, e := range entries {
			e := e.(map[string]any)
			if units, ok := e["units"].([]any); !ok {
				t.Errorf("%q: %v has units %#v, want a list", args, e["name"], e["units"])
			} else if e["name"] == "bar" && len(units) != 0 {
				t.Errorf("%q: the skipped bar has units %v", args, units)
			}
		}
	}
}
