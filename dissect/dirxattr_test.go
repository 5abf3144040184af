package dissect

import (
	"os"
	"path/filepath"
	"testing"

	pgfstest "github.com/portable-generator/portable-generator/dissect/internal/fstest"
)

func TestDirectoryXattrs(t *testing.T) {
	src, cases := pgfstest.XattrSource(t)
	// A link to the flagged file has no attribute of its own: the
	// attribute is read without following it, as systemd reads it.
	if err := os.Symlink("extension-release.app2", filepath.Join(src, "usr/lib/extension-release.d/extension-release.link")); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, pgfstest.XattrCase{Path: "usr/lib/extension-release.d/extension-release.link", Name: "user.extension-release.strict"})
	img, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	pgfstest.CompareXattrs(t, img.tree, cases)
}
