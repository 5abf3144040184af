package dissect

import (
	"io"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// headSize covers every place a format is recognised by (the GPT header
// signature for 512- to 4096-byte sectors, the MBR, the squashfs, erofs,
// ext4 and f2fs superblocks) but btrfs's, at 64 KiB.
const headSize = 4096 + 512

// headReaderAt reads the start of an image once and serves every read
// inside it from memory: probing for a partition table and a file system
// asks a dozen small questions there, each a system call otherwise.
type headReaderAt struct {
	r    io.ReaderAt
	head []byte // nil until the first read inside it
	err  error
	size int64
}

func newHeadReaderAt(r io.ReaderAt, size int64) *headReaderAt {
	return &headReaderAt{r: r, size: size}
}

// seed serves the head from head, already read from the same file
// (PrefetchFile), and counts it in b as read, as reading it would.
func (h *headReaderAt) seed(head []byte, b *vfs.Budget) {
	if int64(len(head)) == min(headSize, h.size) && b.Read(len(head)) == nil {
		h.head = head
	}
}

func (h *headReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := int64(min(headSize, h.size))
	if off < 0 || off+int64(len(p)) > n {
		return h.r.ReadAt(p, off)
	}
	if h.head == nil && h.err == nil {
		h.head = make([]byte, n)
		if _, err := h.r.ReadAt(h.head, 0); err != nil {
			h.head, h.err = nil, err
		}
	}
	if h.err != nil {
		return h.r.ReadAt(p, off) // let the caller see the real error at its offset
	}
	return copy(p, h.head[off:]), nil
}
