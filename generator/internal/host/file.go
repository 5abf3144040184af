package host

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// errNotRegular is a host file that is a FIFO, device, socket or
// directory where a regular file was expected: opening a FIFO for reading
// waits for a writer, at boot for ever, so nothing is read from one.
var errNotRegular = errors.New("not a regular file")

// openRegular opens the file at in-root path p for reading, without
// waiting on a FIFO or taking a terminal, and only if it is a regular
// file.
func (r Root) openRegular(p string) (*os.File, error) {
	f, err := os.OpenFile(r.Path(p), os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &os.PathError{Op: "open", Path: p, Err: errNotRegular}
		}
		return nil, err
	}
	return f, nil
}

// readRegular reads at most limit bytes of the regular file at in-root
// path p (see openRegular); what lies beyond is not read.
func (r Root) readRegular(p string, limit int64) ([]byte, error) {
	f, err := r.openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
