package ext4

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// build makes a file system image of src with mke2fs.
func build(t testing.TB, src, size string, args ...string) string {
	t.Helper()
	return fstest.Image(t, "mke2fs", func(img string) []string {
		return append(append([]string{"-q", "-F", "-d", src}, args...), img, size)
	})
}

func open(t testing.TB, img string) (*vfs.Tree, *vfs.Budget) {
	tree, _, b := openFS(t, img)
	return tree, b
}

func openFS(t testing.TB, img string) (*vfs.Tree, *FS, *vfs.Budget) {
	t.Helper()
	return fstest.OpenImage(t, img, fstest.WholeTree(), Open)
}

func TestLayouts(t *testing.T) {
	src := fstest.Source(t, 500) // a directory of several blocks
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ext4", []string{"-t", "ext4"}},
		{"ext4-1k-blocks", []string{"-t", "ext4", "-b", "1024"}},
		{"ext4-inline-data", []string{"-t", "ext4", "-O", "inline_data"}},
		{"ext4-no-journal-no-csum", []string{"-t", "ext4", "-O", "^has_journal,^metadata_csum"}},
		{"ext4-meta-bg", []string{"-t", "ext4", "-O", "meta_bg,^resize_inode"}},
		{"ext4-256-byte-inodes-64k-groups", []string{"-t", "ext4", "-I", "256", "-g", "8192"}},
		{"ext4-bigalloc", []string{"-t", "ext4", "-O", "bigalloc", "-C", "65536"}},
		{"ext4-bigalloc-1k-blocks", []string{"-t", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "16384"}},
		{"ext4-bigalloc-1k-blocks-meta-bg", []string{"-t", "ext4", "-b", "1024", "-O", "bigalloc,meta_bg,^resize_inode", "-C", "16384"}},
		{"ext3", []string{"-t", "ext3"}},
		{"ext2", []string{"-t", "ext2"}},
		{"ext2-no-filetype", []string{"-t", "ext2", "-O", "^filetype"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree, _ := open(t, build(t, src, "64M", c.args...))
			fstest.Compare(t, src, tree, "lost+found")
		})
	}
}

// TestConformance is the contract of every reader (fstest.TestReader).
func TestConformance(t *testing.T) {
	fstest.TestReader(t, fstest.Reader[*FS]{
		Build:     func(t testing.TB, src string) string { return build(t, src, "64M", "-t", "ext4") },
		BuildMany: buildMany,
		Open:      Open,
	})
}

// buildMany makes a directory of n names written by the kernel's own ext4
// (mke2fs -d links names one linear scan at a time, which takes many
// minutes for so many): the kernel indexes it as an htree, as any large
// directory on a real ext4 is.
func buildMany(t testing.TB, n int) string {
	testenv.NeedRoot(t) // to mount the image and let the kernel write it
	testenv.NeedTool(t, "mount", "losetup", "blockdev")
	img := build(t, t.TempDir(), "256M", "-t", "ext4", "-N", strconv.Itoa(n+n/5))
	mnt := t.TempDir()
	// A loop device of our own, flushed and detached after the unmount:
	// one that mount attaches may stay attached (another process may
	// hold it open) with the image's last blocks not yet written back.
	out, err := exec.Command("losetup", "--find", "--show", img).Output()
	if err != nil {
		testenv.Unavailable(t, "cannot attach a loop device here: %v", err)
	}
	dev := string(bytes.TrimSpace(out))
	defer exec.Command("losetup", "-d", dev).Run()
	if out, err := exec.Command("mount", dev, mnt).CombinedOutput(); err != nil {
		testenv.Unavailable(t, "cannot mount ext4 here: %v %s", err, out)
	}
	many := filepath.Join(mnt, "many")
	err = os.Mkdir(many, 0o755)
	for i := 0; i < n && err == nil; i++ {
		var f *os.File
		if f, err = os.Create(filepath.Join(many, "f"+strconv.Itoa(i))); err == nil {
			f.Close()
		}
	}
	if out, uerr := exec.Command("umount", mnt).CombinedOutput(); uerr != nil {
		t.Fatalf("umount: %v %s", uerr, out)
	}
	fstest.Run(t, "blockdev", "--flushbufs", dev)
	fstest.Run(t, "losetup", "-d", dev)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestUnsupportedFeatureIsNamed(t *testing.T) {
	src := fstest.Source(t, 0)
	img := build(t, src, "16M", "-t", "ext4")
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Set the compression feature: no reader of ours may guess at it.
	var b [4]byte
	f.ReadAt(b[:], superblockOffset+0x60)
	b[0] |= incompatCompression
	f.WriteAt(b[:], superblockOffset+0x60)
	fi, _ := f.Stat()
	_, err = Open(f, fi.Size(), nil)
	if !errors.Is(err, vfs.ErrUnsupported) || errors.Is(err, vfs.ErrCorrupt) {
		t.Fatalf("Open: %v, want unsupported", err)
	}
	t.Log(err)
}

// TestHtreeLookup reads directories that e2fsck -D indexed (mke2fs -d
// writes none), one level deep with 4 KiB blocks and two with 1 KiB
// blocks, and checks that a lookup follows the index: it costs a few
// blocks' entries, not the directory's.
func TestHtreeLookup(t *testing.T) {
	testenv.NeedTool(t, "e2fsck")
	for _, c := range []struct {
		name    string
		entries int
		args    []string
		levels  int
	}{
		{"4k-blocks", 300, []string{"-t", "ext4"}, 0},
		{"1k-blocks-two-levels", 600, []string{"-t", "ext4", "-b", "1024"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Long names fill many blocks with few entries (mke2fs -d
			// takes time quadratic in a directory's entries): four to a
			// 1 KiB block, so 600 need an interior index level.
			src := fstest.Source(t, 0)
			os.MkdirAll(filepath.Join(src, "usr/share/many"), 0o755)
			for i := 0; i < c.entries; i++ {
				os.WriteFile(filepath.Join(src, "usr/share/many", longName(i)), []byte(strconv.Itoa(i)), 0o644)
			}
			img := build(t, src, "64M", c.args...)
			// -D rebuilds every directory, with an index where it has more
			// than one block; exit status 1 means "file system modified".
			if out, err := exec.Command("e2fsck", "-fyD", img).CombinedOutput(); err != nil {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
					t.Fatalf("e2fsck -fyD: %v\n%s", err, out)
				}
			}
			tree, fsys, b := openFS(t, img)
			d, err := lookupPath(fsys, "usr", "share", "many")
			if err != nil {
				t.Fatal(err)
			}
			if d.flags&flagIndex == 0 {
				t.Fatal("e2fsck left usr/share/many without an index")
			}
			root, _, err := fsys.readDirBlock(d, 0)
			if err != nil || root == nil {
				t.Fatalf("index root: %v", err)
			}
			if got := int(root[24+6]); got != c.levels {
				t.Fatalf("index has %d interior levels, want %d", got, c.levels)
			}
			before := b.Stats().Entries
			for _, n := range []int{0, c.entries / 2, c.entries - 1} {
				name := longName(n)
				num, indexed, err := fsys.lookupIndexed(d, name)
				if err != nil || !indexed || num == 0 {
					t.Fatalf("%s: inode %d, indexed %v, %v", name, num, indexed, err)
				}
			}
			if _, indexed, err := fsys.lookupIndexed(d, "entry-absent"); !indexed || err != nil {
				t.Fatalf("a missing name: indexed %v, %v", indexed, err)
			}
			perLookup := (b.Stats().Entries - before) / 4
			if perLookup > 300 {
				t.Errorf("a lookup visits %d entries in a %d-entry directory: the index is not used", perLookup, c.entries)
			}
			t.Logf("%d entries visited per lookup among %d", perLookup, c.entries)
			fstest.Compare(t, src, tree, "lost+found")
		})
	}
}

func longName(i int) string { return fmt.Sprintf("entry-%06d-%s", i, strings.Repeat("x", 190)) }

// lookupPath walks names from the root without the resolver.
func lookupPath(f *FS, names ...string) (*Inode, error) {
	n, err := f.Root()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if n, err = f.Lookup(n, name); err != nil {
			return nil, err
		}
	}
	return n.(*Inode), nil
}

// The listing cache holds at most its bound of names over all directories:
// looking up names in several large unindexed directories evicts, and a
// directory larger than the bound is scanned, never cached.
func TestListingCacheIsBounded(t *testing.T) {
	src := fstest.Source(t, 0)
	for d, n := range map[string]int{"a": 300, "b": 300, "c": 300, "huge": 700} {
		os.MkdirAll(filepath.Join(src, d), 0o755)
		for i := 0; i < n; i++ {
			os.WriteFile(filepath.Join(src, d, fmt.Sprintf("name-%04d", i)), nil, 0o644)
		}
	}
	tree, fsys, _ := openFS(t, build(t, src, "16M", "-t", "ext4"))
	fsys.maxNames = 650
	for _, p := range []string{"a/name-0001", "b/name-0002", "a/name-0003", "c/name-0004", "huge/name-0699", "b/name-0299"} {
		if _, err := fs.Stat(tree, p); err != nil {
			t.Fatal(err)
		}
		if fsys.cachedNames > fsys.maxNames {
			t.Fatalf("after %s the cache holds %d names, bound %d", p, fsys.cachedNames, fsys.maxNames)
		}
	}
	if _, err := fs.Stat(tree, "huge/name-0700"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("huge/name-0700: %v", err)
	}
}

func TestXattrs(t *testing.T) {
	src, cases := fstest.XattrSource(t)
	for _, args := range [][]string{
		{"-b", "4096", "-t", "ext4"},               // 256-byte inodes: small values in the inode, the rest in a block
		{"-b", "4096", "-t", "ext4", "-I", "128"},  // no in-inode area: every value in a block
		{"-b", "4096", "-t", "ext4", "-I", "1024"}, // room for most values in the inode
	} {
		tree, _ := open(t, build(t, src, "16M", args...))
		fstest.CompareXattrs(t, tree, cases)
	}
}
