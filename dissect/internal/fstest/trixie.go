package fstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// Trixie builds erofs images with the Debian 13 tree's mkfs.erofs 1.8,
// which writes what the host's 1.5 cannot: lzma, deflate and zstd
// compression, fragments, deduplication. It copies a source tree into the
// Debian 13 tree once and runs mkfs.erofs there through chroot.
type Trixie struct {
	tree, dir string
}

// NewTrixie copies src into the Debian 13 tree, or ends the test (see
// testenv.NeedTree) when the tree, its mkfs.erofs or root is missing.
func NewTrixie(t testing.TB, src string) *Trixie {
	t.Helper()
	tree := testenv.NeedTree(t, "mkfs.erofs")
	dir, err := os.MkdirTemp(filepath.Join(tree, "tmp"), "erofs-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	Run(t, "cp", "-a", src, filepath.Join(dir, "src"))
	return &Trixie{tree: tree, dir: dir}
}

// Erofs builds the image name.raw of the source with mkfs.erofs and args,
// and returns its path outside the tree.
func (tb *Trixie) Erofs(t testing.TB, name string, args ...string) string {
	t.Helper()
	inside := "/" + strings.TrimPrefix(tb.dir, tb.tree+"/")
	img := filepath.Join(inside, name+".raw")
	Run(t, "chroot", append(append([]string{tb.tree, "mkfs.erofs", "--quiet"}, args...), img, inside+"/src")...)
	return filepath.Join(tb.dir, name+".raw")
}

// File writes a file beside the source (mkfs.erofs's --compress-hints,
// say) and returns its path inside the tree, as mkfs.erofs sees it.
func (tb *Trixie) File(t testing.TB, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(tb.dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return "/" + strings.TrimPrefix(p, tb.tree+"/")
}

// Remove removes what the builder put into the tree now, for a caller
// that cannot wait for the test's cleanup (a fuzz worker that is killed
// runs none, and the tree is shared).
func (tb *Trixie) Remove() { os.RemoveAll(tb.dir) }
