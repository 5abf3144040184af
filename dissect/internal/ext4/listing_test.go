package ext4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// A hostile ext2 directory of a million blocks that are all the same
// block, through one double-indirect block: listing it reads a few
// megabytes, all but one block of them four-byte pointers, and would name
// millions of 240-byte entries. What a listing allocates must be bounded
// on its own, not only by the bytes read or the entries budget.
func TestListingOfOneBlockRepeated(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d"), 0o755)
	for i := 0; i < 15; i++ { // one 4 KiB block of entries
		os.WriteFile(filepath.Join(src, "d", strings.Repeat(string(rune('a'+i)), 240)), nil, 0o644)
	}
	placeholder := bytes.Repeat([]byte{1}, 4096) // zeros would be a hole
	os.WriteFile(filepath.Join(src, "ind"), placeholder, 0o644)
	os.WriteFile(filepath.Join(src, "dind"), placeholder, 0o644)
	img := build(t, src, "16M", "-t", "ext2", "-b", "4096")
	_, fsys, _ := openFS(t, img)
	phys := func(name string) (*Inode, uint64) {
		ino, err := lookupPath(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		rn, err := fsys.mapBlock(ino, 0)
		if err != nil || rn.hole {
			t.Fatalf("%s: %+v, %v", name, rn, err)
		}
		return ino, rn.phys
	}
	dir, p := phys("d")
	_, ind := phys("ind")
	_, dind := phys("dind")
	tbl, err := fsys.groupInodeTable(0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	fill := func(block, ptr uint64) {
		for i := 0; i < 1024; i++ {
			binary.LittleEndian.PutUint32(raw[block*4096+uint64(4*i):], uint32(ptr))
		}
	}
	fill(ind, p)
	fill(dind, ind)
	inode := raw[tbl*4096+uint64(dir.num-1)*uint64(fsys.sb.InodeSize):]
	size := uint64(12+1024+1024*1024) * 4096
	binary.LittleEndian.PutUint32(inode[0x4:], uint32(size))
	binary.LittleEndian.PutUint32(inode[0x6C:], uint32(size>>32))
	binary.LittleEndian.PutUint32(inode[0x28+13*4:], uint32(dind))
	if err := os.WriteFile(img, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	limits := vfs.DefaultLimits
	limits.Entries = 1 << 19
	tree, _, b := fstest.OpenImage(t, img, limits, Open)
	var ents []fs.DirEntry
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ents, err = fs.ReadDir(tree, "d")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, vfs.ErrBudget) {
		t.Fatalf("listing: %d entries, %v; want ErrBudget", len(ents), err)
	}
	st := b.Stats()
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%v; %+v; %d MiB allocated", err, st, alloc>>20)
	if st.Entries > 2*vfs.DefaultLimits.Listing {
		t.Errorf("%d entries visited before the listing was refused, want about %d", st.Entries, vfs.DefaultLimits.Listing)
	}
	if alloc > 128<<20 {
		t.Errorf("listing allocated %d MiB", alloc>>20)
	}
}
