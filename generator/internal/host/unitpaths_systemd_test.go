package host

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestUnitSearchPathIsSystemds holds UnitSearchPath (and so the image's
// unit directories, dissect.UnitDirectories) to the search path of systemd
// 252 and 257 as `systemd-analyze unit-paths` prints it for the system
// scope. One difference is ours on purpose: /lib/systemd/system is read on
// every version, after /usr/lib. 252 reads it before /usr/lib and 257 not
// at all; with a merged /usr (Debian 12 and 13) it is /usr/lib's directory.
func TestUnitSearchPathIsSystemds(t *testing.T) {
	testenv.NeedTool(t, "systemd-analyze", "chroot")
	tree := testenv.NeedTree(t, "systemd-analyze")
	const split = "/lib/systemd/system"
	ours := slices.DeleteFunc(slices.Clone(UnitSearchPath), func(d string) bool { return d == split })
	for _, cmd := range [][]string{
		{"systemd-analyze", "unit-paths"},
		{"chroot", tree, "systemd-analyze", "unit-paths"},
	} {
		out, err := exec.Command(cmd[0], cmd[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(cmd, " "), err)
		}
		theirs := slices.DeleteFunc(strings.Fields(string(out)), func(d string) bool { return d == split })
		if !slices.Equal(ours, theirs) {
			t.Errorf("%s:\n%s\nours (without %s):\n%s", strings.Join(cmd, " "), strings.Join(theirs, "\n"), split, strings.Join(ours, "\n"))
		}
	}
	if !slices.Contains(UnitSearchPath, split) {
		t.Errorf("%s is not searched", split)
	}
}
