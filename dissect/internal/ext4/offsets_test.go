package ext4

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// A corrupt structure is reported at its own byte offset in the image, so
// whoever reads the message can find it with a hex editor.
func TestCorruptionOffsets(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "dir"), 0o755)
	os.WriteFile(filepath.Join(src, "dir", "a"), nil, 0o644)
	os.WriteFile(filepath.Join(src, "file"), []byte("content"), 0o644)
	os.Symlink(strings.Repeat("x", 100), filepath.Join(src, "slow"))
	img := build(t, src, "8M", "-t", "ext4", "-O", "^has_journal")
	_, fsys, _ := openFS(t, img)
	node := func(name string) *Inode {
		ino, err := lookupPath(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		return ino
	}
	dir, file, slow := node("dir"), node("file"), node("slow")
	rn, err := fsys.mapBlock(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	dirBlock := int64(rn.phys) * int64(fsys.sb.BlockSize)
	for _, c := range []struct {
		name   string
		at     int64 // the byte spoiled
		want   int64 // where the structure it belongs to starts
		spoil  func(b []byte)
		access func(tree fs.FS) error
	}{
		{"directory entry", dirBlock + 4, dirBlock, // the rec_len of "."
			func(b []byte) { binary.LittleEndian.PutUint16(b, 3) },
			func(tree fs.FS) error { _, err := fs.ReadDir(tree, "dir"); return err }},
		{"extent header", file.pos + iBlock, file.pos + iBlock,
			func(b []byte) { b[0] ^= 0xff },
			func(tree fs.FS) error { _, err := fs.ReadFile(tree, "file"); return err }},
		{"symlink size", slow.pos, slow.pos,
			func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 1<<20) },
			func(tree fs.FS) error { _, err := fs.ReadLink(tree, "slow"); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			c.spoil(raw[c.at:])
			spoilt := filepath.Join(t.TempDir(), "spoilt.raw")
			os.WriteFile(spoilt, raw, 0o644)
			tree, _ := open(t, spoilt)
			err = c.access(tree)
			var fe *vfs.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FormatError", err)
			}
			if fe.Offset != c.want {
				t.Errorf("%v: offset %d, want %d", err, fe.Offset, c.want)
			}
		})
	}
}
