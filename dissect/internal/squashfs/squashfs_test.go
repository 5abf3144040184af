package squashfs

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// build makes an image of src with mksquashfs and the given options.
func build(t testing.TB, src string, args ...string) string {
	t.Helper()
	return fstest.Image(t, "mksquashfs", func(img string) []string {
		return append([]string{src, img, "-noappend", "-quiet", "-no-progress"}, args...)
	})
}

// open opens an image file as a tree, counting its work.
func open(t testing.TB, img string) (*vfs.Tree, *FS, *vfs.Budget) {
	t.Helper()
	return fstest.OpenImage(t, img, fstest.WholeTree(), Open)
}

// TestConformance is the contract of every reader (fstest.TestReader), on
// xz images: the slowest compressor, and a streaming one.
func TestConformance(t *testing.T) {
	fstest.TestReader(t, fstest.Reader[*FS]{
		Build: func(t testing.TB, src string) string { return build(t, src, "-comp", "xz") },
		Open:  Open,
	})
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

func TestXattrs(t *testing.T) {
	src, cases := fstest.XattrSource(t)
	for _, args := range [][]string{{"-comp", "gzip"}, {"-noI", "-noD", "-noF", "-noX"}} {
		tree, _, _ := open(t, build(t, src, args...))
		fstest.CompareXattrs(t, tree, cases)
	}
	tree, _, _ := open(t, build(t, src, "-no-xattrs"))
	fstest.CompareXattrs(t, tree, []fstest.XattrCase{{Path: cases[0].Path, Name: cases[0].Name}})
}

// An image closed (Release) gives its fragment buffers to the next image,
// which reads its own files from them; a file of the closed image still
// open fails instead of reading what is no longer its data.
func TestReleaseHandsBuffersOn(t *testing.T) {
	src := fstest.Source(t, 300)
	for _, comp := range []string{"gzip", "xz", "zstd", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			img := build(t, src, "-comp", comp)
			first, sq, _ := open(t, img)
			fstest.Compare(t, src, first)
			var name string
			fs.WalkDir(first, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() && name == "" {
					name = p
				}
				return nil
			})
			f, err := first.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Read(make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			sq.Release()
			sq.Release() // twice is harmless
			if _, err := f.Read(make([]byte, 1)); err == nil {
				t.Error("a file of a closed image was read")
			}
			if _, err := fs.ReadFile(first, name); err == nil {
				t.Error("a closed image was read")
			}
			for range 3 {
				next, sq, _ := open(t, img)
				fstest.Compare(t, src, next)
				sq.Release()
			}
		})
	}
}
