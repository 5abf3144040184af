package fstest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// FuzzLimits keep one fuzz input cheap: the default limits (the ratio of
// decompressed to read bytes, the file cap, the memory held), with fewer
// bytes and entries. Exceeding them is a clean error.
func FuzzLimits() vfs.Limits {
	l := vfs.DefaultLimits
	l.BytesRead = 8 << 20
	l.Decompressed = 32 << 20
	l.Entries = 20_000
	return l
}

// FuzzWalk is a reader's fuzz target: it opens data with open under
// FuzzLimits, walks everything the image offers (WalkAll), and fails when
// the work went past the budget by more than one charge can: maxCharge is
// the most bytes one decompression charge of the reader may claim.
func FuzzWalk[T vfs.FS](t *testing.T, data []byte, open func(io.ReaderAt, int64, *vfs.Budget) (T, error), maxCharge int64) {
	l := FuzzLimits()
	b := vfs.NewBudget(l)
	r, err := open(vfs.CountingReaderAt{R: bytes.NewReader(data), B: b}, int64(len(data)), b)
	if err != nil {
		return
	}
	WalkAll(vfs.NewTree(r, nil, b))
	CheckWork(t, b, maxCharge)
}

// CheckWork fails the test unless the work counted in b stayed within its
// limits, but for the one charge of each kind that crossed a limit (at
// most maxCharge bytes decompressed).
func CheckWork(t testing.TB, b *vfs.Budget, maxCharge int64) {
	t.Helper()
	l, st := b.Limits(), b.Stats()
	decompressed := l.Decompressed
	if l.DecompressRatio > 0 {
		decompressed = min(decompressed, l.DecompressRatio*st.BytesRead+l.DecompressSlack)
	}
	switch {
	case st.BytesRead > 2*l.BytesRead:
		t.Fatalf("read %d bytes, limit %d: %+v", st.BytesRead, l.BytesRead, st)
	case st.Decompressed > decompressed+maxCharge:
		t.Fatalf("decompressed %d bytes, limit %d: %+v", st.Decompressed, decompressed, st)
	case l.Memory > 0 && st.PeakMemory > l.Memory:
		t.Fatalf("held %d bytes at once, limit %d: %+v", st.PeakMemory, l.Memory, st)
	case l.FileBytes > 0 && st.FileBytes > l.FileBytes+l.FileSize:
		t.Fatalf("served %d bytes of files, limit %d: %+v", st.FileBytes, l.FileBytes, st)
	}
}

// Bomb writes a tree for fuzz seeds and tests: an os-release and n unit
// files of size bytes of one repeated byte, which compress to almost
// nothing.
func Bomb(t testing.TB, n, size int) string {
	t.Helper()
	src := t.TempDir()
	files := map[string][]byte{"usr/lib/os-release": []byte("ID=bomb\n")}
	unit := bytes.Repeat([]byte{'A'}, size)
	for i := 0; i < n; i++ {
		files[filepath.Join("usr/lib/systemd/system", "bomb-"+strconv.Itoa(i)+".service")] = unit
	}
	WriteFiles(t, src, files)
	return src
}

// WriteFiles writes files (path -> content) below dir, making their
// directories.
func WriteFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// SeedTree writes the small tree the readers' fuzz targets seed from: an
// os-release with a user attribute (so mutations reach the attribute
// parsers), reached through a relative symlink too, and a unit of lines
// lines.
func SeedTree(t testing.TB, lines int) string {
	t.Helper()
	src := t.TempDir()
	WriteFiles(t, src, map[string][]byte{
		"usr/lib/os-release":                  []byte("ID=seed\n"),
		"usr/lib/systemd/system/seed.service": bytes.Repeat([]byte("[Service]\n"), lines),
	})
	unix.Setxattr(filepath.Join(src, "usr/lib/os-release"), "user.extension-release.strict", []byte("false"), 0)
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(src, "os-release")); err != nil {
		t.Fatal(err)
	}
	return src
}
