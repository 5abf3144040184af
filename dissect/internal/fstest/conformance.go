package fstest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Reader is what the conformance suite needs of a file-system reader:
// how to make an image of a tree with the file system's own tool, and how
// to open one.
type Reader[T vfs.FS] struct {
	// Build makes an image of the tree at src and returns its path.
	Build func(t testing.TB, src string) string
	// BuildMany makes an image whose directory "many" holds n empty files
	// named f0, f1, ...; nil builds such a tree with Build.
	BuildMany func(t testing.TB, n int) string
	Open      func(io.ReaderAt, int64, *vfs.Budget) (T, error)
	// Source writes the tree of the read the generator makes (Source,
	// when nil): a tool that cannot take all of it gets one it can.
	Source func(t testing.TB, entries int) string
}

// TestReader checks the contract every reader of dissect keeps, the way
// testing/fstest.TestFS checks an fs.FS: a directory listing stops at the
// listing limit; the generator's read of an image (os-release, a unit
// directory, its units) reads at most 256 KiB and inflates at most 1 MiB
// (on the test tree of 1,000 entries: 8 to 12 KiB read, and 36 KiB
// inflated by squashfs), and no byte twice; a directory of 100,000
// entries lists whole, is looked up in far fewer entries than it holds,
// and is refused past the entries budget as too much work; symlink loops
// end in ErrLoop and no link leaves the image.
func TestReader[T vfs.FS](t *testing.T, r Reader[T]) {
	t.Run("ListingLimit", func(t *testing.T) { testListingLimit(t, r) })
	t.Run("ReadsOnlyWhatItNeeds", func(t *testing.T) { testReadsOnlyWhatItNeeds(t, r) })
	t.Run("HundredThousandEntries", func(t *testing.T) { testHundredThousand(t, r) })
	t.Run("LoopsAndEscapes", func(t *testing.T) { testLoopsAndEscapes(t, r) })
}

// A listing stops at the Listing limit of names, whatever the bytes read
// or decompressed for it (see vfs.Budget.Listing).
func testListingLimit[T vfs.FS](t *testing.T, r Reader[T]) {
	src := t.TempDir()
	for i := 0; i < 50; i++ {
		WriteFiles(t, src, map[string][]byte{fmt.Sprintf("d/unit-%02d.service", i): nil})
	}
	img := r.Build(t, src)
	for _, c := range []struct {
		limit int64
		err   error
	}{{50, nil}, {49, vfs.ErrBudget}} {
		l := vfs.DefaultLimits
		l.Listing = c.limit
		tree, _, _ := OpenImage(t, img, l, r.Open)
		ents, err := fs.ReadDir(tree, "d")
		if !errors.Is(err, c.err) || (c.err == nil && len(ents) != 50) {
			t.Errorf("limit %d: %d names, %v; want %v", c.limit, len(ents), err, c.err)
		}
	}
}

// What the generator reads of an image with megabytes of other data: its
// os-release (through a symlink) and the unit files of one directory.
func testReadsOnlyWhatItNeeds[T vfs.FS](t *testing.T, r Reader[T]) {
	source := r.Source
	if source == nil {
		source = Source
	}
	src := source(t, 1000)
	tree, _, b, m := OpenMetered(t, r.Build(t, src), vfs.DefaultLimits, r.Open)
	// An alias is the same file again: a second read of it is the
	// caller's, not the reader's.
	ReadUnits(t, tree, true)
	st, ms := b.Stats(), m.Stats()
	t.Logf("read %d bytes in %d calls, decompressed %d, %d entries, %d bytes held at most", st.BytesRead, ms.Calls, st.Decompressed, st.Entries, st.PeakMemory)
	if st.BytesRead > 256<<10 {
		t.Errorf("read %d bytes, want at most 256 KiB", st.BytesRead)
	}
	if st.Decompressed > 1<<20 {
		t.Errorf("decompressed %d bytes, want at most 1 MiB", st.Decompressed)
	}
	if ms.Reread != 0 {
		t.Errorf("%d of %d bytes read more than once", ms.Reread, ms.Bytes)
	}
}

// A directory of 100,000 names lists whole; a lookup in it visits a few
// hundred entries and reads a few blocks, not all of them; listing it
// under a budget of 50,000 entries is too much work, not corruption.
func testHundredThousand[T vfs.FS](t *testing.T, r Reader[T]) {
	if testing.Short() {
		t.Skip("-short: 100,000 files")
	}
	const n = 100_000
	var img string
	if r.BuildMany != nil {
		img = r.BuildMany(t, n)
	} else {
		src := t.TempDir()
		many := filepath.Join(src, "many")
		if err := os.Mkdir(many, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			f, err := os.Create(filepath.Join(many, "f"+strconv.Itoa(i)))
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		img = r.Build(t, src)
	}
	tree, _, b := OpenImage(t, img, vfs.DefaultLimits, r.Open)
	ents, err := fs.ReadDir(tree, "many")
	if err != nil || len(ents) != n {
		t.Fatalf("%d entries, %v", len(ents), err)
	}
	before := b.Stats()
	for _, name := range []string{"f0", "f50000", "f99999", "f77777"} {
		if _, err := fs.Stat(tree, "many/"+name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Stat(tree, "many/f100000"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("f100000: %v, want not-exist", err)
	}
	after := b.Stats()
	entries, read := (after.Entries-before.Entries)/5, (after.BytesRead-before.BytesRead)/5
	t.Logf("listing and five lookups: %+v; per lookup %d entries, %d bytes read", after, entries, read)
	if entries > 1000 || read > 128<<10 {
		t.Errorf("a lookup visits %d entries and reads %d bytes of 100,000 names: the directory's index is not used", entries, read)
	}
	small, _, _ := OpenImage(t, img, vfs.Limits{Entries: 50_000}, r.Open)
	if _, err := fs.ReadDir(small, "many"); !errors.Is(err, vfs.ErrBudget) {
		t.Errorf("listing under a budget of 50,000 entries: %v, want ErrBudget", err)
	}
}

// Symlinks that chase each other end in ErrLoop; one that climbs out of
// the image ends inside it, where nothing is.
func testLoopsAndEscapes[T vfs.FS](t *testing.T, r Reader[T]) {
	src := t.TempDir()
	for link, target := range map[string]string{"a": "b", "b": "a", "escape": "../../../../etc/shadow"} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Fatal(err)
		}
	}
	tree, _, _ := OpenImage(t, r.Build(t, src), vfs.DefaultLimits, r.Open)
	if _, err := fs.ReadFile(tree, "a"); !errors.Is(err, vfs.ErrLoop) {
		t.Errorf("loop: %v, want ErrLoop", err)
	}
	if _, err := fs.ReadFile(tree, "escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("escape: %v, want not-exist inside the image", err)
	}
}
