package dissect

import (
	"encoding/binary"
	"io"
	"os"
	"strings"
	"sync"
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
			regions := prefetchRegions(f, fi.Size())
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
