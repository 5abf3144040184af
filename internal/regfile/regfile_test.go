package regfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A regular file opens; a FIFO (which a blocking open would wait on for
// ever, failing this test by its timeout) and a directory are refused
// with ErrNotRegular; a missing file is fs.ErrNotExist.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	reg, fifo := filepath.Join(dir, "file"), filepath.Join(dir, "fifo")
	if err := os.WriteFile(reg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := Open(reg); err != nil {
		t.Errorf("a regular file: %v", err)
	} else {
		f.Close()
	}
	for _, p := range []string{fifo, dir} {
		if _, err := Open(p); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: %v, want %v", p, err, ErrNotRegular)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
