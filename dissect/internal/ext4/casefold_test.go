package ext4

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// A casefolded directory (mke2fs -O casefold, chattr +F) is indexed by the
// hashes of the folded names, so its index cannot lead a lookup of the
// name as stored; and the kernel finds a name in it whatever its case.
// e2fsck -D builds the index the way the kernel does.
func TestCasefoldedDirectory(t *testing.T) {
	testenv.NeedTool(t, "debugfs")
	testenv.NeedTool(t, "e2fsck")
	src := t.TempDir()
	for _, d := range []string{"folded", "plain"} {
		os.MkdirAll(filepath.Join(src, d), 0o755)
		for i := 0; i < 200; i++ {
			os.WriteFile(filepath.Join(src, d, fmt.Sprintf("Unit-%d.Service", i)), []byte(fmt.Sprint(i)), 0o644)
		}
	}
	img := build(t, src, "16M", "-t", "ext4", "-b", "1024", "-O", "casefold")
	// mke2fs -d copies no inode flags: set casefold (and keep extents),
	// then let e2fsck rebuild the directories' indexes.
	if out, err := exec.Command("debugfs", "-w", "-R", "set_inode_field /folded flags 0x40080000", img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v\n%s", err, out)
	}
	if out, err := exec.Command("e2fsck", "-fyD", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("e2fsck -fyD: %v\n%s", err, out)
		}
	}
	tree, fsys, _ := openFS(t, img)
	for _, d := range []string{"folded", "plain"} {
		if ino, err := lookupPath(fsys, d); err != nil || ino.flags&flagIndex == 0 {
			t.Fatalf("%s: %v, or e2fsck gave it no index", d, err)
		}
	}
	for i := 0; i < 200; i++ {
		for _, name := range []string{fmt.Sprintf("Unit-%d.Service", i), fmt.Sprintf("unit-%d.SERVICE", i)} {
			b, err := fs.ReadFile(tree, "folded/"+name)
			if err != nil || string(b) != fmt.Sprint(i) {
				t.Fatalf("folded/%s: %q, %v", name, b, err)
			}
		}
		if _, err := fs.Stat(tree, fmt.Sprintf("plain/Unit-%d.Service", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Stat(tree, fmt.Sprintf("plain/unit-%d.service", i)); err == nil {
			t.Fatalf("plain/unit-%d.service found: only a casefolded directory ignores case", i)
		}
	}
}
