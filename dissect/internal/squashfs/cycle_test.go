package squashfs

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// A hostile image whose directory /a/b lists what /a lists, so that b
// names itself: /a/b/b/b/... would go on for ever. b's own inode says its
// parent is a, so the lookup in b must refuse it, even after the same name
// was looked up, with the same answer, in a.
func TestSharedListingIsNoCycle(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := build(t, src, "-noI", "-noD", "-noF", "-no-xattrs")
	_, sq, _ := open(t, img)
	root, err := sq.Root()
	if err != nil {
		t.Fatal(err)
	}
	a, err := sq.Lookup(root, "a")
	if err != nil {
		t.Fatal(err)
	}
	var ref uint64
	sq.walkDir(a.(*Inode), func(e dirent) bool { ref = e.ref; return false })

	// Point b's listing (start block, size, offset of a basic directory
	// inode) at a's, in the uncompressed inode table.
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	pos := sq.sb.InodeTableStart + ref>>16 + 2 + ref&0xffff
	if binary.LittleEndian.Uint16(raw[pos:]) != typeDir {
		t.Fatalf("b is not a basic directory inode at %d", pos)
	}
	ai := a.(*Inode)
	binary.LittleEndian.PutUint32(raw[pos+16:], ai.dirBlock)
	binary.LittleEndian.PutUint16(raw[pos+24:], uint16(ai.size))
	binary.LittleEndian.PutUint16(raw[pos+26:], ai.dirOffset)
	if err := os.WriteFile(img, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	tree, _, _ := open(t, img)
	if _, err := fs.Stat(tree, "a/b"); err != nil {
		t.Fatalf("a/b: %v", err)
	}
	if _, err := fs.Stat(tree, "a/b/b"); !errors.Is(err, vfs.ErrCorrupt) {
		t.Errorf("a/b/b: %v, want ErrCorrupt (b is not its own parent)", err)
	}
}
