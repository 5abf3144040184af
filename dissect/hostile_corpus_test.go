package dissect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// The hostile-image corpus of issue 18: images made at test time by the
// real tools, each one a way to make the generator's read of an image
// (os-release, the unit directories, every unit) cost more than an honest
// image can: decompression bombs in every compressor of every format,
// sparse and inline files, deep and wide trees, many matching units. Each
// image's work is asserted by its budget (bytes read, decompressed, held
// at once), never by a clock: the result must be an error the generator
// reports (ErrBudget), or success within the same bounds.

// Bounds every image of the corpus stays within, whatever it holds:
// decompression stops at sixteen times what was read plus two files at
// the cap (and the one charge that crossed that line, at most a file at
// the cap), nothing holds more at once than a few files at the cap, and
// what is read is the files served (eight at the cap) and their metadata.
const (
	corpusPeak = 4 * MaxFileSize
	corpusRead = 12 << 20
)

func corpusDecompressed(read int64) int64 {
	l := DefaultLimits
	return l.DecompressRatio*read + l.DecompressSlack + MaxFileSize
}

// units returns n unit files of the image's prefix holding content.
func units(n int, content []byte) map[string][]byte {
	files := map[string][]byte{}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("usr/lib/systemd/system/raw-many-%05d.service", i)] = content
	}
	return files
}

// bombTree: forty matching units, each a file at the size cap of one
// repeated byte. Together they inflate a thousandfold from the few KiB
// the image holds.
func bombTree(t *testing.T) string {
	src := imageTree(t)
	fstest.WriteFiles(t, src, units(40, bytes.Repeat([]byte{'A'}, MaxFileSize)))
	return src
}

// sparseTree: forty matching units, each a hole at the size cap.
func sparseTree(t *testing.T) string {
	src := imageTree(t)
	for p := range units(40, nil) {
		full := filepath.Join(src, p)
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(full, MaxFileSize); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// hugeTree: one unit far over the cap, and one of 64 MiB of holes.
func hugeTree(t *testing.T) string {
	src := imageTree(t)
	fstest.WriteFiles(t, src, map[string][]byte{"usr/lib/systemd/system/raw-huge.service": bytes.Repeat([]byte{'A'}, 16<<20)})
	sparse := filepath.Join(src, "usr/lib/systemd/system/raw-sparse.service")
	if err := os.WriteFile(sparse, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 64<<20); err != nil {
		t.Fatal(err)
	}
	return src
}

// manyTree: thousands of small matching units, as many as the listing
// limit lets through easily; an honest shape at a hostile scale. Past
// MaxUnits the generator refuses such an image (see TestMaxUnits); the
// corpus reads them all, to bound the readers' work, not the generator's.
func manyTree(n int) func(t *testing.T) string {
	return func(t *testing.T) string {
		src := imageTree(t)
		fstest.WriteFiles(t, src, units(n, []byte("[Service]\nExecStart=/usr/bin/raw\n")))
		return src
	}
}

// deepTree: the unit directory is a symlink into a directory nested a
// thousand deep, so every path resolved inside it walks a thousand
// components.
func deepTree(t *testing.T) string {
	src := imageTree(t)
	deep := strings.Repeat("d/", 1000)
	fstest.WriteFiles(t, src, map[string][]byte{deep + "raw-deep.service": []byte("[Service]\nExecStart=/usr/bin/raw\n")})
	link := filepath.Join(src, "etc/systemd/system")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/"+strings.TrimSuffix(deep, "/"), link); err != nil {
		t.Fatal(err)
	}
	return src
}

// A maker builds an image of src and returns its path.
type maker func(t *testing.T, src string) string

func mksquashfs(args ...string) maker {
	return func(t *testing.T, src string) string {
		return fstest.Image(t, "mksquashfs", func(img string) []string {
			return append([]string{src, img, "-quiet", "-noappend", "-no-progress"}, args...)
		})
	}
}

func mkerofs(args ...string) maker {
	return func(t *testing.T, src string) string {
		return fstest.Image(t, "mkfs.erofs", func(img string) []string {
			return append(append([]string{"--quiet"}, args...), img, src)
		})
	}
}

// mkerofsTrixie builds with Debian 13's mkfs.erofs 1.8 (lzma, deflate,
// zstd, fragments, dedupe).
func mkerofsTrixie(args ...string) maker {
	return func(t *testing.T, src string) string {
		return fstest.NewTrixie(t, src).Erofs(t, "image", args...)
	}
}

func mkext4(args ...string) maker {
	return func(t *testing.T, src string) string {
		return fstest.Image(t, "mkfs.ext4", func(img string) []string {
			return append(append([]string{"-q", "-F", "-b", "4096", "-d", src}, args...), img, "64M")
		})
	}
}

// corpusFormats are every compressor of every format.
var corpusFormats = map[string]maker{
	"squashfs-gzip":         mksquashfs("-comp", "gzip"),
	"squashfs-xz":           mksquashfs("-comp", "xz"),
	"squashfs-xz-1m-blocks": mksquashfs("-comp", "xz", "-b", "1M"),
	"squashfs-lzma":         mksquashfs("-comp", "lzma"),
	"squashfs-zstd":         mksquashfs("-comp", "zstd"),
	"squashfs-lz4":          mksquashfs("-comp", "lz4"),
	"squashfs-lzo":          mksquashfs("-comp", "lzo"),
	"erofs-lz4":             mkerofs("-zlz4"),
	"erofs-lz4hc-64k":       mkerofs("-zlz4hc", "-C65536"),
	"erofs-lzma":            mkerofsTrixie("-zlzma"),
	"erofs-deflate":         mkerofsTrixie("-zdeflate"),
	"erofs-zstd":            mkerofsTrixie("-zzstd", "-C131072"),
	"erofs-lz4hc-fragments": mkerofsTrixie("-zlz4hc", "-Eall-fragments"),
	"erofs-zstd-dedupe":     mkerofsTrixie("-zzstd", "-Ededupe"),
	"ext4":                  mkext4(),
	"ext4-inline":           mkext4("-O", "inline_data"),
}

func TestHostileCorpus(t *testing.T) {
	shapes := []struct {
		name    string
		tree    func(t *testing.T) string
		formats []string // nil: every format
		want    error    // what reading the units ends in; nil: success
	}{
		// The units inflate a thousandfold: refused once what was
		// inflated outgrows what was read, or (ext4, and files that
		// share one decoded block) once eight have been served.
		{"bomb", bombTree, nil, ErrBudget},
		// Holes are zeros made from nothing read, like inflated bytes.
		{"sparse", sparseTree, []string{"squashfs-zstd", "erofs-lz4", "ext4"}, ErrBudget},
		// Files over the cap are refused by their size, unread.
		{"huge", hugeTree, []string{"squashfs-xz", "squashfs-zstd", "erofs-lz4", "ext4"}, ErrFileTooLarge},
		// Many small units: read, within the same bounds.
		{"many", manyTree(3000), []string{"squashfs-xz", "squashfs-zstd", "erofs-lz4", "ext4"}, nil},
		{"deep", deepTree, []string{"squashfs-gzip", "erofs-lz4", "ext4"}, nil},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			src := shape.tree(t)
			for name, make := range corpusFormats {
				if shape.formats != nil && !slices.Contains(shape.formats, name) {
					continue
				}
				t.Run(name, func(t *testing.T) {
					p := make(t, src)
					img, err := Open(p)
					if err != nil {
						t.Fatal(err)
					}
					defer img.Close()
					err = readUnits(img.FS())
					st := img.Stats()
					t.Logf("%v; read %d, decompressed %d, entries %d, served %d, peak %d held", err, st.BytesRead, st.Decompressed, st.Entries, st.FileBytes, st.PeakMemory)
					switch {
					case shape.want == nil && err != nil:
						t.Errorf("err = %v, want none", err)
					case shape.want != nil && !errors.Is(err, shape.want):
						t.Errorf("err = %v, want %v", err, shape.want)
					}
					if max := corpusDecompressed(st.BytesRead); st.Decompressed > max {
						t.Errorf("decompressed %d bytes, more than %d", st.Decompressed, max)
					}
					if st.PeakMemory > corpusPeak {
						t.Errorf("held %d bytes at once, more than %d", st.PeakMemory, corpusPeak)
					}
					if st.BytesRead > corpusRead {
						t.Errorf("read %d bytes, more than %d", st.BytesRead, corpusRead)
					}
				})
			}
		})
	}
}

// readUnits reads what the generator reads: os-release, then every unit
// in the unit directories, the first of each name, and returns the first
// error. Unlike Units it does not stop at MaxUnits: the corpus measures
// the readers on every unit an image holds.
func readUnits(fsys fs.FS) error {
	if _, err := readFirst(fsys, OSReleasePaths); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, dir := range UnitDirectories {
		ents, err := fs.ReadDir(fsys, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if seen[e.Name()] || e.IsDir() {
				continue
			}
			seen[e.Name()] = true
			if _, err := fs.ReadFile(fsys, path.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkBombs times what issue 18 measured: a 20 KB squashfs (xz) whose
// forty matching units are 16 MiB of one repeated byte (15 s of CPU and
// 530 MB before the per-file cap), and the same with units at the cap,
// which the decompression ratio stops. B/op is what one image allocates.
func BenchmarkBombs(b *testing.B) {
	testenv.NeedTool(b, "mksquashfs")
	for _, c := range []struct {
		name string
		size int
	}{{"16MiB-units", 16 << 20}, {"units-at-the-cap", MaxFileSize}} {
		src := fstest.Bomb(b, 40, c.size)
		p := fstest.Image(b, "mksquashfs", func(img string) []string {
			return []string{src, img, "-quiet", "-noappend", "-no-progress", "-comp", "xz"}
		})
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var st Stats
			for b.Loop() {
				img, err := Open(p)
				if err != nil {
					b.Fatal(err)
				}
				if err := readUnits(img.FS()); !errors.Is(err, ErrBudget) {
					b.Fatalf("err = %v, want ErrBudget", err)
				}
				st = img.Stats()
				img.Close()
			}
			b.ReportMetric(float64(st.Decompressed), "decompressed/op")
			b.ReportMetric(float64(st.PeakMemory), "peak-held/op")
		})
	}
}
