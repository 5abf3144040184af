package squashfs

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// build makes an image of src with mksquashfs and the given options.
func build(t testing.TB, src string, args ...string) string {
	t.Helper()
	testenv.NeedTool(t, "mksquashfs")
	img := filepath.Join(t.TempDir(), "image.raw")
	fstest.Run(t, "mksquashfs", append([]string{src, img, "-noappend", "-quiet", "-no-progress"}, args...)...)
	return img
}

// open opens an image file as a tree, counting its work.
func open(t testing.TB, img string) (*vfs.Tree, *FS, *vfs.Budget) {
	t.Helper()
	return fstest.OpenImage(t, img, fstest.WholeTree(), Open)
}

func TestEveryCompressor(t *testing.T) {
	src := fstest.Source(t, 1000)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"gzip", []string{"-comp", "gzip"}},
		{"lzo", []string{"-comp", "lzo"}},
		{"lz4", []string{"-comp", "lz4"}},
		{"lz4hc", []string{"-comp", "lz4", "-Xhc"}},
		{"xz", []string{"-comp", "xz"}},
		{"xz-1m-blocks", []string{"-comp", "xz", "-b", "1M"}},
		{"lzma", []string{"-comp", "lzma"}},
		{"zstd", []string{"-comp", "zstd"}},
		{"zstd-4k-blocks", []string{"-comp", "zstd", "-b", "4096"}},
		{"gzip-1m-blocks", []string{"-comp", "gzip", "-b", "1M"}},
		{"uncompressed", []string{"-noI", "-noD", "-noF", "-noX"}},
		{"no-fragments", []string{"-comp", "zstd", "-no-fragments"}},
		{"always-fragments", []string{"-comp", "lz4", "-always-use-fragments"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree, _, _ := open(t, build(t, src, c.args...))
			fstest.Compare(t, src, tree)
		})
	}
}

// TestReadsOnlyWhatItNeeds opens an image with megabytes of data and reads
// what the generator reads: os-release and the unit files.
func TestReadsOnlyWhatItNeeds(t *testing.T) {
	src := fstest.Source(t, 1000)
	for _, comp := range []string{"gzip", "xz", "zstd", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			tree, _, b, m := fstest.OpenMetered(t, build(t, src, "-comp", comp), vfs.DefaultLimits, Open)
			if _, err := fs.ReadFile(tree, "etc/os-release"); err != nil {
				t.Fatal(err)
			}
			ents, err := fs.ReadDir(tree, "usr/lib/systemd/system")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if _, err := fs.ReadFile(tree, "usr/lib/systemd/system/"+e.Name()); err != nil {
					t.Fatal(err)
				}
			}
			st, ms := b.Stats(), m.Stats()
			t.Logf("%s: read %d bytes in %d calls, decompressed %d, %d entries, peak %d bytes held", comp, st.BytesRead, ms.Calls, st.Decompressed, st.Entries, st.PeakMemory)
			// No byte is read twice, and no block inflated twice: the
			// length word of a metadata block comes with it, and the
			// fragment holding the small files goes on from where it
			// stopped.
			if ms.Reread != 0 {
				t.Errorf("%d of %d bytes read more than once", ms.Reread, ms.Bytes)
			}

			if st.BytesRead > 256<<10 {
				t.Errorf("read %d bytes, want at most 256 KiB", st.BytesRead)
			}
			if st.Decompressed > 1<<20 {
				t.Errorf("decompressed %d bytes, want at most 1 MiB", st.Decompressed)
			}
			// Streams stop where the last file read ends: the 128 KiB
			// fragment holding the small files is inflated only so far.
			if (comp == "gzip" || comp == "xz") && st.Decompressed >= 128<<10 {
				t.Errorf("decompressed %d bytes: the fragment was inflated whole", st.Decompressed)
			}
		})
	}
}

// Files packed in one fragment block, read in any order and again, cost
// one read of the block and one pass of its decoder, which stops after
// the last byte any read needs.
func TestFragmentInflatedOnce(t *testing.T) {
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var names []string
	for i := 0; i < 30; i++ {
		var text strings.Builder
		for text.Len() < 3000 {
			fmt.Fprintf(&text, "line %d of unit %d\n", rng.IntN(1000), i)
		}
		name := fmt.Sprintf("unit-%02d.service", i)
		names = append(names, name)
		if err := os.WriteFile(filepath.Join(src, name), []byte(text.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, comp := range []string{"gzip", "xz", "lzma", "zstd", "lz4", "lzo"} {
		t.Run(comp, func(t *testing.T) {
			tree, sq, b, m := fstest.OpenMetered(t, build(t, src, "-comp", comp), vfs.DefaultLimits, Open)
			if sq.sb.Fragments != 1 {
				t.Fatalf("%d fragments, want the files in one", sq.sb.Fragments)
			}
			read := func(names ...string) {
				for _, n := range names {
					if _, err := fs.ReadFile(tree, n); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The middle first, then the start (already inflated),
			// then the end (the decoder goes on), then all again.
			read(names[15], names[0], names[29])
			read(names...)
			st, ms := b.Stats(), m.Stats()
			t.Logf("%+v; %+v", st, ms)
			if ms.Reread != 0 {
				t.Errorf("%d bytes read more than once", ms.Reread)
			}
			// The block (90 KB used) and the few metadata blocks of the
			// inodes and the directory, each inflated once.
			if max := int64(sq.sb.BlockSize) + 4*metadataBlockSize; st.Decompressed > max {
				t.Errorf("decompressed %d bytes, more than %d: a block was inflated twice", st.Decompressed, max)
			}
		})
	}
}

func TestHundredThousandEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 100,000 files")
	}
	src := t.TempDir()
	many := filepath.Join(src, "many")
	if err := os.Mkdir(many, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100_000; i++ {
		f, err := os.Create(filepath.Join(many, "f"+itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	img := build(t, src, "-comp", "zstd")
	tree, _, b := open(t, img)
	ents, err := fs.ReadDir(tree, "many")
	if err != nil || len(ents) != 100_000 {
		t.Fatalf("%d entries, %v", len(ents), err)
	}
	// Lookups start at the block the directory index names, and stop
	// past the name in the sorted listing: a few hundred entries, not
	// 100,000 each.
	before := b.Stats()
	for _, name := range []string{"f0", "f50000", "f99999"} {
		if _, err := fs.Stat(tree, "many/"+name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Stat(tree, "many/f100000"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("f100000: %v, want not-exist", err)
	}
	after := b.Stats()
	if per := (after.Entries - before.Entries) / 4; per > 1000 {
		t.Errorf("a lookup visits %d entries of 100,000: the directory index is not used", per)
	}
	t.Logf("listing and four lookups %+v; the lookups: %d entries, %d bytes read",
		after, after.Entries-before.Entries, after.BytesRead-before.BytesRead)

	// The same directory under a budget of 50,000 entries is refused as
	// too much work, not as corrupt.
	f, _ := os.Open(img)
	defer f.Close()
	fi, _ := f.Stat()
	small := vfs.NewBudget(vfs.Limits{Entries: 50_000})
	sq, err := Open(f, fi.Size(), small)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fs.ReadDir(vfs.NewTree(sq, nil, small), "many")
	if !errors.Is(err, vfs.ErrBudget) {
		t.Fatalf("ReadDir under a small budget: %v, want ErrBudget", err)
	}
}

func itoa(i int) string {
	var b [12]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

func TestSymlinkLoopAndEscape(t *testing.T) {
	src := t.TempDir()
	os.Symlink("b", filepath.Join(src, "a"))
	os.Symlink("a", filepath.Join(src, "b"))
	os.Symlink("../../../../etc/shadow", filepath.Join(src, "escape"))
	tree, _, _ := open(t, build(t, src))
	if _, err := fs.ReadFile(tree, "a"); !errors.Is(err, vfs.ErrLoop) {
		t.Errorf("loop: %v, want ErrLoop", err)
	}
	if _, err := fs.ReadFile(tree, "escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("escape: %v, want not-exist inside the image", err)
	}
}

func TestXattrs(t *testing.T) {
	src, cases := fstest.XattrSource(t)
	for _, args := range [][]string{{"-comp", "gzip"}, {"-noI", "-noD", "-noF", "-noX"}} {
		tree, _, _ := open(t, build(t, src, args...))
		fstest.CompareXattrs(t, tree, cases)
	}
	tree, _, _ := open(t, build(t, src, "-no-xattrs"))
	fstest.CompareXattrs(t, tree, []fstest.XattrCase{{Path: cases[0].Path, Name: cases[0].Name}})
}
