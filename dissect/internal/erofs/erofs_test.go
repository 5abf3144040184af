package erofs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// build makes an image of src with the host's mkfs.erofs (1.5 on Debian 12).
func build(t testing.TB, src string, args ...string) string {
	t.Helper()
	return fstest.Image(t, "mkfs.erofs", func(img string) []string {
		return append(append([]string{"--quiet"}, args...), img, src)
	})
}

// open opens an image file as a tree, counting its work.
func open(t testing.TB, img string, l vfs.Limits) (*vfs.Tree, *FS, *vfs.Budget) {
	t.Helper()
	return fstest.OpenImage(t, img, l, Open)
}

// source is fstest.Source plus xattrs, inline and (repeated on many files,
// so mkfs shares them) shared, which the reader must skip exactly.
// mkfs.erofs 1.5 fails on 255-byte names (1.8 does not): for it, host
// true shortens the source's longest name by one byte.
func source(t testing.TB, entries int, host bool) string {
	t.Helper()
	src := fstest.Source(t, entries)
	if host {
		long := filepath.Join(src, "usr/share", strings.Repeat("n", 255))
		if err := os.Rename(long, long[:len(long)-1]); err != nil {
			t.Fatal(err)
		}
	}
	long := bytes.Repeat([]byte("v"), 200)
	set := func(p, name string, value []byte) {
		if err := unix.Lsetxattr(filepath.Join(src, p), name, value, 0); err != nil {
			t.Logf("no xattrs on this file system: %v", err)
		}
	}
	set("usr/lib/os-release", "user.portable", long)
	set("usr/lib/systemd/system/app.service", "user.a", []byte("1"))
	set("usr/lib/systemd/system/app.service", "user.b", long)
	set("usr/share", "user.dir", long)
	for i := 0; i < min(entries, 50); i++ {
		set("usr/share/many/entry-"+pad6(i), "user.shared", []byte("same everywhere"))
	}
	// Text that compresses a few times, not a thousand: its pclusters
	// fill up, so big pclusters get used.
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("portable service image unit socket timer sandbox erofs lazy reader block cluster extent")
	var text bytes.Buffer
	for text.Len() < 512<<10 {
		text.WriteString(words[rng.IntN(len(words))])
		text.WriteByte(" \n"[rng.IntN(2)])
		text.WriteString(itoa(rng.IntN(1000)))
	}
	if err := os.WriteFile(filepath.Join(src, "usr/share/words"), text.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

func pad6(i int) string {
	s := "00000" + itoa(i)
	return s[len(s)-6:]
}

func itoa(i int) string {
	var b [20]byte
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

// mkfsCase is one way of building an image, and the kinds of storage (see
// census) the image must then use, so the test proves what it claims.
type mkfsCase struct {
	name  string
	args  []string
	want  []string
	short bool // run with -short too
}

// TestConformance is the contract of every reader (fstest.TestReader), on
// lz4hc images with tail packing.
func TestConformance(t *testing.T) {
	fstest.TestReader(t, fstest.Reader[*FS]{
		Build:  func(t testing.TB, src string) string { return build(t, src, "-zlz4hc", "-Eztailpacking") },
		Open:   Open,
		Source: func(t testing.TB, entries int) string { return source(t, entries, true) },
	})
}

func TestHostMkfs(t *testing.T) {
	src := source(t, 1000, true)
	for _, c := range []mkfsCase{
		{"plain", nil, []string{"flat-inline", "flat-plain", "xattrs"}, true},
		{"plain-compact-inodes", []string{"-Eforce-inode-compact"}, []string{"compact", "xattrs"}, false},
		{"plain-extended-inodes", []string{"-Eforce-inode-extended"}, []string{"extended", "xattrs"}, false},
		{"plain-no-inline", []string{"-Enoinline_data"}, []string{"flat-plain"}, false},
		{"chunked-blockmap", []string{"--chunksize=8192", "-Eforce-inode-blockmap"}, []string{"chunk-based"}, true},
		{"chunked-indexes", []string{"--chunksize=65536", "-Eforce-chunk-indexes"}, []string{"chunk-indexes"}, false},
		{"lz4", []string{"-zlz4"}, []string{"lz4", "compact-indexes", "compact-2B"}, true},
		{"lz4hc", []string{"-zlz4hc"}, []string{"lz4", "compact-indexes"}, false},
		{"lz4-full-indexes", []string{"-zlz4", "-Elegacy-compress"}, []string{"lz4", "full-indexes"}, true},
		{"lz4hc-big-pcluster-16k", []string{"-zlz4hc", "-C16384"}, []string{"big-pcluster", "compact-indexes"}, false},
		{"lz4hc-big-pcluster-64k", []string{"-zlz4hc", "-C65536"}, []string{"big-pcluster"}, false},
		{"lz4hc-big-pcluster-full-indexes", []string{"-zlz4hc", "-C32768", "-Elegacy-compress"}, []string{"big-pcluster", "full-indexes"}, false},
		{"lz4hc-ztailpacking", []string{"-zlz4hc", "-Eztailpacking"}, []string{"inline-pcluster"}, true},
		{"lz4-compact-inodes", []string{"-zlz4", "-Eforce-inode-compact"}, []string{"lz4", "compact"}, false},
		{"lz4hc-small-extents", []string{"-zlz4hc", "--max-extent-bytes=8192"}, []string{"lz4", "uncompressed"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && !c.short {
				t.Skip("-short")
			}
			t.Parallel()
			tree, e, _ := open(t, build(t, src, c.args...), fstest.WholeTree())
			fstest.Compare(t, src, tree)
			checkCensus(t, e, c.want)
		})
	}
}

// TestTrixieMkfs uses Debian 13's mkfs.erofs 1.8 for what 1.5 cannot make:
// lzma, deflate and zstd, two algorithms in one file system, fragments,
// deduplication, other block sizes.
func TestTrixieMkfs(t *testing.T) {
	src := source(t, 1000, false)
	tb := fstest.NewTrixie(t, src)
	// Hints lines are "pcluster-size algorithm-index regex": the text
	// file gets the second algorithm of -z.
	hintsInside := tb.File(t, "hints", []byte("4096 1 usr/share/text\n"))
	for _, c := range []mkfsCase{
		{"plain", nil, []string{"flat-inline", "xattrs"}, false},
		{"plain-1k-blocks", []string{"-b1024"}, []string{"flat-inline"}, false},
		{"lz4", []string{"-zlz4"}, []string{"lz4"}, false},
		{"lzma", []string{"-zlzma"}, []string{"lzma", "compact-2B"}, false},
		{"lzma-extreme-big-pcluster", []string{"-zlzma,level=109", "-C65536"}, []string{"lzma", "big-pcluster"}, false},
		{"deflate", []string{"-zdeflate"}, []string{"deflate"}, false},
		{"libdeflate", []string{"-zlibdeflate"}, []string{"deflate"}, false},
		{"zstd", []string{"-zzstd"}, []string{"zstd"}, true},
		{"zstd-big-pcluster", []string{"-zzstd,level=19", "-C131072"}, []string{"zstd", "big-pcluster"}, false},
		{"lz4-and-lzma", []string{"-zlz4:lzma", "--compress-hints=" + hintsInside}, []string{"lz4", "lzma"}, false},
		{"lz4hc-fragments", []string{"-zlz4hc", "-Efragments"}, []string{"fragment", "interlaced"}, false},
		{"lz4hc-all-fragments", []string{"-zlz4hc", "-Eall-fragments"}, []string{"fragment", "full-indexes"}, false},
		{"lzma-fragments-dedupe", []string{"-zlzma", "-Efragments,dedupe"}, []string{"fragment", "lzma"}, false},
		{"lz4hc-dedupe", []string{"-zlz4hc", "-Ededupe"}, []string{"partial-ref"}, false},
		{"zstd-dedupe-big-pcluster", []string{"-zzstd", "-Ededupe", "-C65536"}, []string{"zstd"}, false},
		{"deflate-ztailpacking", []string{"-zdeflate", "-Eztailpacking"}, []string{"deflate", "inline-pcluster"}, true},
		{"lz4hc-ztailpacking-fragments", []string{"-zlz4hc", "-Eztailpacking,fragments"}, []string{"fragment"}, false},
		{"lz4-full-indexes", []string{"-zlz4", "-Elegacy-compress"}, []string{"full-indexes"}, false},
		{"lz4hc-1k-blocks", []string{"-zlz4hc", "-b1024"}, []string{"lz4", "big-pcluster"}, false},
		{"lzma-512-blocks", []string{"-zlzma", "-b512"}, []string{"lzma"}, false},
		{"chunked", []string{"--chunksize=16384"}, []string{"chunk-based"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && !c.short {
				t.Skip("-short")
			}
			t.Parallel()
			tree, e, _ := open(t, tb.Erofs(t, c.name, c.args...), fstest.WholeTree())
			fstest.Compare(t, src, tree)
			checkCensus(t, e, c.want)
		})
	}
}

// TestDecompressionBudget reads a file that decompresses to more than the
// budget allows: the read is refused as too much work.
func TestDecompressionBudget(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "zeros"), make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, _, b := open(t, build(t, src, "-zlz4hc"), vfs.Limits{Decompressed: 1 << 20})
	_, err := fs.ReadFile(tree, "zeros")
	if !errors.Is(err, vfs.ErrBudget) {
		t.Fatalf("reading 4 MiB under a 1 MiB budget: %v, want ErrBudget", err)
	}
	if st := b.Stats(); st.Decompressed > 1<<20+pclusterMaxDSize {
		t.Errorf("decompressed %d bytes under a 1 MiB budget", st.Decompressed)
	}
}

func TestXattrs(t *testing.T) {
	src, cases := fstest.XattrSource(t)
	// Repeated on many files, mkfs.erofs keeps a value once, shared.
	for i := range 8 {
		name := fmt.Sprintf("usr/share/shared-%d", i)
		if err := os.WriteFile(filepath.Join(src, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unix.Setxattr(filepath.Join(src, name), "user.shared", []byte("same everywhere"), 0); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, fstest.XattrCase{Path: name, Name: "user.shared", Value: []byte("same everywhere")})
	}
	for _, args := range [][]string{nil, {"-zlz4hc"}} {
		tree, _, _ := open(t, build(t, src, args...), vfs.DefaultLimits)
		fstest.CompareXattrs(t, tree, cases)
	}
	tree, _, _ := open(t, build(t, src, "-x", "-1"), vfs.DefaultLimits)
	fstest.CompareXattrs(t, tree, []fstest.XattrCase{{Path: cases[0].Path, Name: cases[0].Name}})
}
