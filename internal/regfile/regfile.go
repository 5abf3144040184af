// Package regfile opens files the generator reads at boot from places
// someone else may have put anything in (the host's configuration, its own
// state file, image files): a FIFO there must never be waited on (with no
// writer, a blocking open or read waits for ever, and the boot with it), and
// a terminal never becomes the controlling one.
package regfile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is a FIFO, device, socket or directory where a regular file
// was expected.
var ErrNotRegular = errors.New("not a regular file")

// Open opens the file at path for reading without blocking and only if it
// is a regular file; otherwise the error wraps ErrNotRegular (or is the
// open's own, fs.ErrNotExist for a missing file).
func Open(path string) (*os.File, error) {
	f, _, err := OpenInfo(path)
	return f, err
}

// OpenInfo is Open, and returns what the open file is, as fstat found it.
func OpenInfo(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
