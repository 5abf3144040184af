package dissect

import (
	"io"
	"os"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"golang.org/x/sys/unix"
)

// newRaw probes r for a partition table or a naked file system and builds
// the image. The partition-table work lives in partitions.go.
func newRaw(r io.ReaderAt, size int64, path string, o Options, b *vfs.Budget) (*Image, error) {
	return nil, vfs.Unsupportedf("raw images")
}

func blockDeviceSize(f *os.File) (int64, error) {
	n, err := unix.IoctlGetUint64(int(f.Fd()), unix.BLKGETSIZE64)
	return int64(n), err
}
