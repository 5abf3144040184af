// Package systemdtest lets tests ask a real systemd how it loads units,
// offline: `systemd --test`, PID 1's own unit loader run without booting,
// prints every setting of every unit it loaded. Two systemds judge: this
// machine's (252 on Debian 12) and the Debian 13 tree's (257,
// integration/trixie-tree.sh), run in the tree with chroot.
//
// systemd refuses test mode as root, so it runs as nobody: the unit files
// a test hands it must be world-readable.
package systemdtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// Judge is one systemd that loads units in test mode.
type Judge struct {
	// Version is its major version (252, 257).
	Version int
	// tree is the root it runs in with chroot, "" for this machine.
	tree string
}

// Host returns this machine's systemd, or ends the test (testenv) when it
// cannot run: it needs root (to become nobody), setpriv and the binary.
func Host(t testing.TB) Judge {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "setpriv")
	v := version(t, exec.Command("/lib/systemd/systemd", "--version"))
	return Judge{Version: v}
}

// Trixie returns the Debian 13 tree's systemd, or ends the test (testenv)
// when the tree is not there.
func Trixie(t testing.TB) Judge {
	t.Helper()
	tree := testenv.NeedTree(t, "setpriv")
	testenv.NeedTool(t, "unshare", "chroot")
	v := version(t, exec.Command("chroot", tree, "/usr/lib/systemd/systemd", "--version"))
	return Judge{Version: v, tree: tree}
}

// All returns this machine's systemd and, when the Debian 13 tree is built
// (or PG_REQUIRE_ALL=1 demands it), the tree's.
func All(t testing.TB) []Judge {
	t.Helper()
	judges := []Judge{Host(t)}
	if _, ok := testenv.Tree(); ok || testenv.RequireAll() {
		judges = append(judges, Trixie(t))
	}
	return judges
}

// version reads "systemd 252 (252.39-1~deb12u2)".
func version(t testing.TB, cmd *exec.Cmd) int {
	t.Helper()
	out, err := cmd.Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) < 2 || f[0] != "systemd" {
		testenv.Unavailable(t, "%s: %v", strings.Join(cmd.Args, " "), err)
	}
	v, err := strconv.Atoi(f[1])
	if err != nil {
		testenv.Unavailable(t, "%s printed %q", strings.Join(cmd.Args, " "), out)
	}
	return v
}

// Load runs the unit loader on unit. base is a world-readable directory;
// dirs are directories below it (relative paths) that go first in the
// search path, highest precedence first, before systemd's default unit
// directories. It returns the dump, which also holds every unit the unit
// pulls in. No generator runs.
func (j Judge) Load(t testing.TB, base string, dirs []string, unit string) Dump {
	t.Helper()
	var cmd *exec.Cmd
	if j.tree == "" {
		none := filepath.Join(base, ".no-generators")
		if err := os.MkdirAll(none, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
			"SYSTEMD_UNIT_PATH="+searchPath(base, dirs), "SYSTEMD_GENERATOR_PATH="+none,
			"/lib/systemd/systemd", "--test", "--system", "--no-pager", "--unit="+unit)
		cmd.Dir = "/"
	} else {
		// In a private mount namespace: the tree's API file systems, a
		// tmpfs /run, and base at /mnt.
		script := `set -e; t=$1; shift
mount --make-rprivate /
mount -t proc proc "$t/proc"; mount --rbind /dev "$t/dev"; mount --rbind /sys "$t/sys"
mount -t tmpfs tmpfs "$t/run"; mount --bind "$1" "$t/mnt"; shift
mkdir -p "$t/run/no-generators"
exec chroot "$t" setpriv --reuid=65534 --regid=65534 --clear-groups env "$@"`
		cmd = exec.Command("unshare", "-m", "sh", "-c", script, "sh", j.tree, base,
			"SYSTEMD_UNIT_PATH="+searchPath("/mnt", dirs), "SYSTEMD_GENERATOR_PATH=/run/no-generators",
			"/usr/lib/systemd/systemd", "--test", "--system", "--no-pager", "--unit="+unit)
	}
	out, err := cmd.Output()
	d := ParseDump(string(out))
	if _, ok := d[unit]; !ok {
		t.Fatalf("systemd %d --test did not load %s: %v\n%s", j.Version, unit, err, out)
	}
	return d
}

// searchPath joins the directories below base; the trailing ':' appends
// systemd's default directories.
func searchPath(base string, dirs []string) string {
	var abs []string
	for _, d := range dirs {
		abs = append(abs, filepath.Join(base, d))
	}
	return strings.Join(abs, ":") + ":"
}

// Dump is what `systemd --test` printed, per unit.
type Dump map[string]Unit

// Unit is one unit's settings in a dump: label → values, in order.
type Unit map[string][]string

// ParseDump reads `systemd --test` output: "-> Unit NAME:" (252) or
// "→ Unit NAME:" (257) starts a unit, tab-indented "Label: value" lines are
// its settings, and a nested "-> ExecStart:" block's lines are values of
// that label.
func ParseDump(s string) Dump {
	units := Dump{}
	var cur Unit
	sub := ""
	for _, line := range strings.Split(s, "\n") {
		depth := len(line) - len(strings.TrimLeft(line, "\t"))
		l := strings.TrimLeft(line, "\t")
		arrow, rest := "", l
		for _, a := range []string{"-> ", "→ "} {
			if r, ok := strings.CutPrefix(l, a); ok {
				arrow, rest = a, r
			}
		}
		switch {
		case depth == 1 && arrow != "" && strings.HasPrefix(rest, "Unit "):
			cur = Unit{}
			units[strings.TrimSuffix(strings.TrimPrefix(rest, "Unit "), ":")] = cur
			sub = ""
		case depth == 1:
			cur = nil
		case cur == nil:
		case depth == 2 && arrow != "":
			sub = strings.TrimSuffix(rest, ":")
			cur[sub] = append(cur[sub], "")
		case depth == 2:
			sub = ""
			label, value, _ := strings.Cut(l, ": ")
			label = strings.TrimSuffix(label, ":")
			cur[label] = append(cur[label], value)
		case depth >= 3 && sub != "":
			cur[sub] = append(cur[sub], l)
		}
	}
	return units
}
