package erofs

import (
	"io"
	"sync"
)

// zFile serves ReadAt over a compressed inode. It decodes whole extents and
// keeps the last few, so reading a file front to back decodes each extent
// once.
type zFile struct {
	f   *FS
	ino *Inode
	z   zInfo
	// packed is set on the packed inode's own reader: a fragment inside
	// it would point back at itself.
	packed bool

	mu     sync.Mutex
	cached []decodedExtent // most recent first
	keep   int
}

type decodedExtent struct {
	la   uint64
	data []byte
}

func (f *FS) newZFile(ino *Inode) (*zFile, error) {
	z, err := f.readZInfo(ino)
	if err != nil {
		return nil, err
	}
	return &zFile{f: f, ino: ino, z: z, keep: 1}, nil
}

func (r *zFile) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := 0
	for len(p) > 0 {
		pos := uint64(off)
		if pos >= r.ino.size {
			return n, io.EOF
		}
		k, err := r.readExtent(p, pos)
		if err != nil {
			return n, err
		}
		n += k
		p = p[k:]
		off += int64(k)
	}
	return n, nil
}

// readExtent copies into p what the extent holding pos has from pos on.
func (r *zFile) readExtent(p []byte, pos uint64) (int, error) {
	for i, c := range r.cached {
		if pos >= c.la && pos-c.la < uint64(len(c.data)) {
			if i > 0 {
				copy(r.cached[1:i+1], r.cached[:i])
				r.cached[0] = c
			}
			return copy(p, c.data[pos-c.la:]), nil
		}
	}
	e, err := r.f.mapAt(r.ino, &r.z, pos)
	if err != nil {
		return 0, err
	}
	if e.kind == extentFragment {
		return r.readFragment(p, pos, e)
	}
	data, err := r.f.decodeExtent(r.ino, e)
	if err != nil {
		return 0, err
	}
	if len(r.cached) < r.keep {
		r.cached = append(r.cached, decodedExtent{})
	} else {
		r.f.budget.Free(len(r.cached[len(r.cached)-1].data))
	}
	copy(r.cached[1:], r.cached)
	r.cached[0] = decodedExtent{la: e.la, data: data}
	return copy(p, data[pos-e.la:]), nil
}

// Close lets the extents kept go; the tree closes a file when done with
// it.
func (r *zFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.cached {
		r.f.budget.Free(len(c.data))
	}
	r.cached = nil
	return nil
}

// readFragment reads the part of a fragment extent at pos from the packed
// inode, without decoding or keeping it here: the packed inode's reader
// keeps what it decoded.
func (r *zFile) readFragment(p []byte, pos uint64, e extent) (int, error) {
	if r.packed {
		return 0, corrupt(int64(r.ino.pos), "packed inode %d has a fragment of its own", r.ino.nid)
	}
	packed, err := r.f.packedInode()
	if err != nil {
		return 0, err
	}
	k := min(uint64(len(p)), e.la+e.llen-pos)
	at := r.z.fragmentOff + (pos - e.la)
	if at < r.z.fragmentOff || at+k > packed.size || at+k < at {
		return 0, corrupt(int64(r.ino.pos), "inode %d: fragment at %d+%d beyond the %d-byte packed inode", r.ino.nid, at, k, packed.size)
	}
	if err := readFull(packed.r, p[:k], int64(at), "fragment"); err != nil {
		return 0, err
	}
	return int(k), nil
}

// packedFile is the inode that holds every file's fragments.
type packedFile struct {
	r    io.ReaderAt
	size uint64
}

// packedCacheExtents is how many decoded extents of the packed inode stay
// cached: small files' tails sit next to each other there.
const packedCacheExtents = 4

func (f *FS) packedInode() (*packedFile, error) {
	f.packedMu.Lock()
	defer f.packedMu.Unlock()
	if f.packed != nil {
		return f.packed, nil
	}
	if f.sb.PackedNid == 0 || !f.sb.fragments {
		return nil, corrupt(superblockOffset+96, "a file has a fragment, but the image has no packed inode")
	}
	ino, err := f.inode(f.sb.PackedNid)
	if err != nil {
		return nil, err
	}
	if !ino.mode.IsRegular() {
		return nil, corrupt(int64(ino.pos), "packed inode %d is not a regular file", ino.nid)
	}
	p := &packedFile{r: flatFile{f: f, ino: ino}, size: ino.size}
	if ino.compressed() {
		z, err := f.newZFile(ino)
		if err != nil {
			return nil, err
		}
		z.packed, z.keep = true, packedCacheExtents
		p.r = z
	}
	f.packed = p
	return p, nil
}
