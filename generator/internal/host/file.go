package host

import (
	"io"
	"os"

	"github.com/portable-generator/portable-generator/internal/regfile"
)

// openRegular opens the file at in-root path p for reading, without
// waiting on a FIFO or taking a terminal, and only if it is a regular
// file (otherwise the error wraps regfile.ErrNotRegular).
func (r Root) openRegular(p string) (*os.File, error) {
	hp, err := r.HostPath(p, true)
	if err != nil {
		return nil, err
	}
	return regfile.Open(hp)
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
