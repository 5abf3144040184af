package dissect

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestOpenRefusesSpecialFiles: only a regular file or a block device is
// read as a raw image, judged by what was opened, not by what the path
// named a moment before. A character device acts when opened
// (/dev/watchdog arms the machine's watchdog); a FIFO stalls open() until a
// writer comes. Both are refused as unsupported.
func TestOpenRefusesSpecialFiles(t *testing.T) {
	testenv.NeedRoot(t) // mknod
	dir := t.TempDir()
	char := filepath.Join(dir, "char.raw")
	if err := unix.Mknod(char, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.raw")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A writer holds the FIFO open, so that even a reader that waits for
	// one gets past open() here and is judged by what it does next.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, p := range []string{char, fifo} {
		img, err := Open(p)
		if err == nil {
			img.Close()
		}
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("Open(%s) = %v, want ErrUnsupported", filepath.Base(p), err)
		}
	}
}

// TestSidecarFIFODoesNotStall: a FIFO named like a sidecar file
// (STEM.roothash) is not waited on. A reader that opened it blocking would
// wait here for a writer that never comes: this test would not return.
func TestSidecarFIFODoesNotStall(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "foo.raw")
	if err := os.WriteFile(img, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "foo.roothash"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := Open(img); err == nil {
		d.Close()
	}
}
