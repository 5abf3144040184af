package squashfs

import (
	"io"
	"sync"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Data block size entries: the low 24 bits are the stored length, bit 24
// says the block is stored uncompressed, and a length of 0 is a hole.
const (
	blockUncompressed = 1 << 24
	blockLengthMask   = blockUncompressed - 1
)

// file serves ReadAt over a regular file's data blocks and fragment tail.
// It learns the block sizes lazily, so a file claiming a huge size costs
// only what is actually read, and keeps the last block it decompressed.
type file struct {
	f       *FS
	ino     *Inode
	blocks  uint64 // full data blocks, without the fragment tail
	sizes   *metaReader
	offsets []uint64 // offsets[i] is where block i starts, after blocksStart
	entries []uint32
	mu      sync.Mutex
	cached  uint64
	data    []byte
	held    int // bytes of data counted in the budget (0 for a tail)
}

func (f *FS) newFile(ino *Inode) *file {
	bs := uint64(f.sb.BlockSize)
	n := ino.size / bs
	if ino.fragment == noFragment && ino.size%bs != 0 {
		n++
	}
	return &file{f: f, ino: ino, blocks: n, offsets: []uint64{0}, cached: ^uint64(0)}
}

func (r *file) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f.released.Load() {
		return 0, errReleased
	}
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	bs := uint64(r.f.sb.BlockSize)
	n := 0
	for len(p) > 0 {
		if uint64(off) >= r.ino.size {
			return n, io.EOF
		}
		i := uint64(off) / bs
		data, err := r.block(i)
		if err != nil {
			return n, err
		}
		c := copy(p, data[uint64(off)-i*bs:])
		n += c
		p = p[c:]
		off += int64(c)
	}
	return n, nil
}

// blockLen is how many bytes of the file block i holds.
func (r *file) blockLen(i uint64) uint64 {
	bs := uint64(r.f.sb.BlockSize)
	return min(bs, r.ino.size-i*bs)
}

// block returns the content of block i (the fragment tail after the full
// blocks).
func (r *file) block(i uint64) ([]byte, error) {
	if i == r.cached {
		return r.data, nil
	}
	var data []byte
	var err error
	if i < r.blocks {
		data, err = r.dataBlock(i)
	} else {
		data, err = r.tail()
	}
	if err != nil {
		return nil, err
	}
	if uint64(len(data)) != r.blockLen(i) {
		if i < r.blocks {
			r.f.budget.Free(len(data))
		}
		return nil, corrupt(int64(r.ino.blocksStart), "inode %d: block %d holds %d bytes, not %d", r.ino.number, i, len(data), r.blockLen(i))
	}
	r.drop()
	r.cached, r.data = i, data
	if i < r.blocks {
		r.held = len(data)
	}
	return data, nil
}

// drop lets the block kept go (the fragment cache holds a tail's bytes).
func (r *file) drop() {
	r.f.budget.Free(r.held)
	r.cached, r.data, r.held = ^uint64(0), nil, 0
}

// Close lets the block kept go; the tree closes a file when done with it.
func (r *file) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drop()
	return nil
}

// sizeOf reads the block size list up to entry i.
func (r *file) sizeOf(i uint64) (uint32, error) {
	if r.sizes == nil {
		m, err := r.f.newMetaReader(r.ino.sizesPos, r.ino.sizesOff)
		if err != nil {
			return 0, err
		}
		r.sizes = m
	}
	for uint64(len(r.entries)) <= i {
		v, err := r.sizes.u32()
		if err != nil {
			return 0, err
		}
		r.entries = append(r.entries, v)
		r.offsets = append(r.offsets, r.offsets[len(r.offsets)-1]+uint64(v&blockLengthMask))
	}
	return r.entries[i], nil
}

func (r *file) dataBlock(i uint64) ([]byte, error) {
	entry, err := r.sizeOf(i)
	if err != nil {
		return nil, err
	}
	want := r.blockLen(i)
	if entry&blockLengthMask == 0 {
		if err := r.f.budget.Decompress(int(want)); err != nil {
			return nil, err
		}
		if err := r.f.budget.Alloc(int(want)); err != nil {
			return nil, err
		}
		return make([]byte, want), nil // a hole
	}
	return r.f.readBlock(r.ino.blocksStart+r.offsets[i], entry, int(want))
}

// readStored reads the stored bytes of a data or fragment block at pos
// with the given size entry, into a buffer from the pools. They are
// counted in the budget as held: the caller frees len(*raw) when it is
// done with them, and gives the buffer back if no slice of it is kept.
func (f *FS) readStored(pos uint64, entry uint32) (*[]byte, error) {
	stored := uint64(entry & blockLengthMask)
	if stored > uint64(f.sb.BlockSize) || pos+stored > f.sb.BytesUsed || pos+stored < pos {
		return nil, corrupt(int64(pos), "data block of %d bytes at %d beyond the image or the block size", stored, pos)
	}
	if err := f.budget.Alloc(int(stored)); err != nil {
		return nil, err
	}
	raw := getBuffer(int(stored))
	if err := vfs.ReadFull(f.r, *raw, int64(pos), "squashfs", "data block"); err != nil {
		f.budget.Free(len(*raw))
		putBuffer(raw)
		return nil, err
	}
	return raw, nil
}

// readBlock reads a data block stored at pos with the given size entry,
// expected to hold want bytes (at most the block size). What it returns is
// counted in the budget as held: the caller frees its length when it drops
// it.
func (f *FS) readBlock(pos uint64, entry uint32, want int) ([]byte, error) {
	raw, err := f.readStored(pos, entry)
	if err != nil {
		return nil, err
	}
	if entry&blockUncompressed != 0 {
		return *raw, nil // kept by the file: not given back
	}
	defer putBuffer(raw)
	defer f.budget.Free(len(*raw))
	if err := f.budget.Decompress(want); err != nil {
		return nil, err
	}
	// The scratch buffer the block is inflated into, then what is kept.
	if err := f.budget.Alloc(want); err != nil {
		return nil, err
	}
	out, err := f.sb.Compressor.decompressSized(*raw, want)
	f.budget.Free(want)
	if err != nil {
		return nil, decodeError(pos, "data block", f.sb.Compressor, err)
	}
	if err := f.budget.Alloc(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// tail returns the end of the file kept in a fragment block.
func (r *file) tail() ([]byte, error) {
	start := uint64(r.ino.fragOffset)
	end := start + r.ino.size%uint64(r.f.sb.BlockSize)
	frag, err := r.f.fragment(r.ino.fragment, end)
	if err != nil {
		return nil, err
	}
	if end > uint64(len(frag)) {
		return nil, corrupt(int64(r.ino.blocksStart), "inode %d: tail %d..%d beyond its %d-byte fragment", r.ino.number, start, end, len(frag))
	}
	return frag[start:end], nil
}
