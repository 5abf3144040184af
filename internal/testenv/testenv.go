// Package testenv decides what a test does when this machine lacks
// something it needs: a program, root, or the Debian 13 tree that carries
// the second systemd (integration/trixie-tree.sh).
//
// On a developer's machine such a test skips, saying what is missing. With
// PG_REQUIRE_ALL=1 in the environment (set by `just test` and `.ci/run`)
// it fails instead: where CI provides every tool, a skip would look like a
// pass and hide a test that no longer runs.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireAllVar is the environment variable that turns a missing
// prerequisite into a failure.
const RequireAllVar = "PG_REQUIRE_ALL"

// TreeVar names the Debian 13 tree when it is not at DefaultTree.
const TreeVar = "PG_TRIXIE_TREE"

// DefaultTree is where integration/trixie-tree.sh builds the Debian 13
// tree (systemd 257).
const DefaultTree = "/var/cache/portable-generator/trixie"

// RequireAll reports whether a missing prerequisite fails the test.
func RequireAll() bool { return os.Getenv(RequireAllVar) == "1" }

// Unavailable ends the test because something it needs is not there: a
// skip, or with PG_REQUIRE_ALL=1 a failure. The message says what is
// missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if RequireAll() {
		t.Fatalf("%s (%s=1: every prerequisite must be there)", why, RequireAllVar)
	}
	t.Skip(why)
}

// NeedTool ends the test (see [Unavailable]) unless every named program
// is on PATH.
func NeedTool(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			Unavailable(t, "%s not installed (just deps)", name)
		}
	}
}

// HaveTool reports whether the named program is on PATH, for a test that
// does more with it and less without it (a fuzz target seeded from a real
// tool's output). With PG_REQUIRE_ALL=1 a missing program fails the test.
func HaveTool(t testing.TB, name string) bool {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if RequireAll() {
			t.Fatalf("%s not installed (just deps) (%s=1: every prerequisite must be there)", name, RequireAllVar)
		}
		return false
	}
	return true
}

// NeedRoot ends the test (see [Unavailable]) unless it runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}

// NeedTree returns the Debian 13 tree (systemd 257), or ends the test (see
// [Unavailable]) when it is not built, when a named program is not inside
// it, or when the test does not run as root: every use of the tree goes
// through chroot.
func NeedTree(t testing.TB, tools ...string) string {
	t.Helper()
	tree, ok := Tree()
	if !ok {
		Unavailable(t, "no Debian 13 tree at %s (integration/trixie-tree.sh builds it)", tree)
	}
	for _, tool := range tools {
		if !treeHas(tree, tool) {
			Unavailable(t, "%s not in the Debian 13 tree at %s (integration/trixie-tree.sh)", tool, tree)
		}
	}
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root to chroot into the Debian 13 tree")
	}
	return tree
}

// Tree returns where the Debian 13 tree is expected, and whether it is
// there complete. For a test that chooses rather than needs (seeding a
// fuzzer with what the tree can build); others call [NeedTree].
func Tree() (string, bool) {
	tree := os.Getenv(TreeVar)
	if tree == "" {
		tree = DefaultTree
	}
	_, err := os.Stat(filepath.Join(tree, ".complete"))
	return tree, err == nil
}

func treeHas(tree, tool string) bool {
	for _, dir := range []string{"usr/bin", "usr/sbin", "bin", "sbin"} {
		// Lstat: a link in the tree may be absolute, meaningful only inside it.
		if fi, err := os.Lstat(filepath.Join(tree, dir, tool)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}
