package dissect

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// recordingReaderAt remembers every read an image's readers make.
type recordingReaderAt struct {
	r     io.ReaderAt
	mu    sync.Mutex
	reads []region
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads = append(r.reads, region{off, int64(len(p))})
	r.mu.Unlock()
	return r.r.ReadAt(p, off)
}

func covered(regions []region, read region) bool {
	for _, g := range regions {
		if read.off >= g.off && read.off+read.len <= g.off+g.len {
			return true
		}
	}
	return false
}

// TestPrefetchRegions checks, on images made by the real tools, that what
// Prefetch asks the kernel for is bounded, lies inside the image, and
// covers where the generator's reads go first: the superblock always, and
// for squashfs every read of its tables, and none of its data.
func TestPrefetchRegions(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs", "mkfs.erofs", "mkfs.ext4")
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	for kind, p := range images {
		if kind == "directory" {
			if err := Prefetch(p); err != nil {
				t.Errorf("Prefetch(directory): %v", err)
			}
			continue
		}
		t.Run(kind, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			regions, _ := prefetchRegions(f, fi.Size())
			var total int64
			for _, g := range regions {
				if g.off < 0 || g.len < 0 || g.off+g.len > fi.Size() {
					t.Errorf("region %+v outside the image of %d bytes", g, fi.Size())
				}
				total += g.len
			}
			if total > prefetchHead+2*prefetchMax {
				t.Errorf("prefetches %d bytes, more than the bound", total)
			}
			rec := &recordingReaderAt{r: f}
			img, err := New(rec, fi.Size())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readService(img.FS()); err != nil {
				t.Fatal(err)
			}
			var hit, all int64
			for _, r := range rec.reads {
				all += r.len
				if covered(regions, r) {
					hit += r.len
				}
			}
			if !covered(regions, rec.reads[0]) {
				t.Errorf("the first read %+v is not prefetched (regions %+v)", rec.reads[0], regions)
			}
			if strings.HasPrefix(kind, "squashfs") {
				head := make([]byte, 96)
				f.ReadAt(head, 0)
				start := int64(binary.LittleEndian.Uint64(head[64:])) // the inode table
				for _, r := range rec.reads {
					if r.off >= start && !covered(regions, r) {
						t.Errorf("table read %+v not prefetched (regions %+v)", r, regions)
					}
				}
				// Between the superblock and the tables lies file data,
				// which the lookups never read.
				for _, g := range regions {
					if g.off < start && g.off+g.len > headSize {
						t.Errorf("region %+v reaches into the data before the tables (at %d)", g, start)
					}
				}
			}
			t.Logf("%d of %d bytes read were prefetched, in %d regions of %d bytes", hit, all, len(regions), total)
			if err := Prefetch(p); err != nil {
				t.Errorf("Prefetch: %v", err)
			}
		})
	}
}

// TestPrefetchShortImage: an image shorter than the superblock its magic
// announces (a few bytes of "hsqs", an ext4 or erofs magic at the end of
// the file) is a hint with nothing to hint, never a crash: Prefetch runs
// beside the readers, unguarded, and a panic there ends the whole run.
func TestPrefetchShortImage(t *testing.T) {
	magicAt := func(off int, magic ...byte) []byte {
		return append(make([]byte, off), magic...)
	}
	for name, data := range map[string][]byte{
		"squashfs": []byte("hsqs"),
		"ext4":     magicAt(1080, 0x53, 0xEF),
		"erofs":    magicAt(1024, 0xE2, 0xE1, 0xF5, 0xE0),
	} {
		t.Run(name, func(t *testing.T) {
			p := t.TempDir() + "/short.raw"
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if probe := probeFS(strings.NewReader(string(data)), int64(len(data))); probe != name {
				t.Fatalf("probeFS = %q, want %q: the case does not test %s", probe, name, name)
			}
			if err := Prefetch(p); err != nil {
				t.Errorf("Prefetch: %v", err)
			}
		})
	}
}

// TestOpenOptionsFile: an image opened with Options.File is read from that
// file, the one PrefetchFile opened, even when another has been put at its
// path since (its FileInfo is that file's), and OpenOptions closes it in
// every case: with the image, on a path that is not the file's (the path
// is then opened and read), and when the file is no image.
func TestOpenOptionsFile(t *testing.T) {
	image := func(id string) string {
		t.Helper()
		return squash(t, writeExtTree(t, map[string]extFile{"usr/lib/os-release": {content: "ID=" + id + "\n"}}), id+".raw")
	}
	id := func(img *Image) string {
		t.Helper()
		osr, _, _, err := img.OSRelease()
		if err != nil {
			t.Fatal(err)
		}
		return osr["ID"]
	}
	closed := func(f *File) bool {
		_, err := f.f.Stat()
		return errors.Is(err, os.ErrClosed)
	}
	inode := func(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }
	dir := t.TempDir()
	p := filepath.Join(dir, "app.raw")
	if err := os.Rename(image("before"), p); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}

	f, err := PrefetchFile(p)
	if err != nil || f == nil {
		t.Fatalf("PrefetchFile = %v, %v", f, err)
	}
	if err := os.Rename(image("after"), p); err != nil { // an upgrade by rename
		t.Fatal(err)
	}
	img, err := OpenOptions(p, Options{File: f})
	if err != nil {
		t.Fatal(err)
	}
	if got := id(img); got != "before" {
		t.Errorf("read the image with ID=%s, want the file given (ID=before)", got)
	}
	if got, want := inode(img.FileInfo()), inode(before); got != want {
		t.Errorf("FileInfo is inode %d, want the file read's %d", got, want)
	}
	img.Close()
	if !closed(f) {
		t.Error("the file given is open after the image was closed")
	}

	// A file opened at another path is not read as this one.
	other := filepath.Join(dir, "other.raw")
	if err := os.Rename(image("other"), other); err != nil {
		t.Fatal(err)
	}
	if f, err = PrefetchFile(p); err != nil || f == nil {
		t.Fatalf("PrefetchFile = %v, %v", f, err)
	}
	if img, err = OpenOptions(other, Options{File: f}); err != nil {
		t.Fatal(err)
	}
	if got := id(img); got != "other" {
		t.Errorf("read the image with ID=%s at other.raw, want ID=other", got)
	}
	if !closed(f) {
		t.Error("the file of another path is left open")
	}
	img.Close()

	// A file that is no image fails, and is closed.
	junk := filepath.Join(dir, "junk.raw")
	if err := os.WriteFile(junk, []byte("no image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err = PrefetchFile(junk); err != nil || f == nil {
		t.Fatalf("PrefetchFile = %v, %v", f, err)
	}
	if _, err := OpenOptions(junk, Options{File: f}); err == nil {
		t.Error("OpenOptions of a file that is no image succeeded")
	}
	if !closed(f) {
		t.Error("the file given is open after OpenOptions failed")
	}
}

// TestOpenOptionsFileHead: an image opened from PrefetchFile's file is
// read from the head PrefetchFile read, not read again. The image here
// fits in its head; it is zeroed on disk after the hint, and still reads.
func TestOpenOptionsFileHead(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	p := squash(t, writeExtTree(t, map[string]extFile{"usr/lib/os-release": {content: "ID=head\n"}}), "head.raw")
	f, err := PrefetchFile(p)
	if err != nil || f == nil {
		t.Fatalf("PrefetchFile = %v, %v", f, err)
	}
	if size := f.info.Size(); size > headSize {
		f.Close()
		t.Fatalf("the image is %d bytes, more than its head (%d): the test needs a smaller one", size, headSize)
	}
	if err := os.WriteFile(p, make([]byte, f.info.Size()), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := OpenOptions(p, Options{File: f})
	if err != nil {
		t.Fatalf("OpenOptions read the head again: %v", err)
	}
	defer img.Close()
	osr, _, _, err := img.OSRelease()
	if err != nil || osr["ID"] != "head" {
		t.Errorf("os-release = %v, %v; want ID=head from the head PrefetchFile read", osr, err)
	}
	if got := img.Stats().BytesRead; got < f.info.Size() {
		t.Errorf("%d bytes counted as read, fewer than the head served (%d)", got, f.info.Size())
	}
}
