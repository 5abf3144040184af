package ext4

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// A sparse file of many one-block extents, with 1 KiB blocks, needs an
// extent tree of several leaves (83 extents each), and the hole after a
// leaf's last extent ends where the next leaf begins: reading across it
// must give the next leaf's data, not zeros up to the end of the file.
func TestHoleAtTheEndOfAnExtentLeaf(t *testing.T) {
	src := t.TempDir()
	var want []byte
	for i := 0; i < 300; i++ {
		want = append(want, bytes.Repeat([]byte{byte(i%251 + 1)}, 1024)...)
		want = append(want, make([]byte, 1024)...) // a hole: mke2fs -d leaves zero blocks out
	}
	if err := os.WriteFile(filepath.Join(src, "sparse"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	tree, fsys, _ := openFS(t, build(t, src, "8M", "-t", "ext4", "-b", "1024"))
	ino, err := lookupPath(fsys, "sparse")
	if err != nil {
		t.Fatal(err)
	}
	if depth := ino.blocks[6]; depth == 0 {
		t.Fatal("the extent tree has no index level: the test needs more extents")
	}
	got, err := fs.ReadFile(tree, "sparse")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("byte %d (block %d) is %d, want %d", i, i/1024, got[i], want[i])
			}
		}
	}
}
