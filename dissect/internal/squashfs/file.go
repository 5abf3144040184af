package squashfs

import (
	"encoding/binary"
	"io"
	"sync"
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
		return nil, corrupt(int64(r.ino.blocksStart), "inode %d: block %d holds %d bytes, not %d", r.ino.number, i, len(data), r.blockLen(i))
	}
	r.cached, r.data = i, data
	return data, nil
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
		return make([]byte, want), nil // a hole
	}
	return r.f.readBlock(r.ino.blocksStart+r.offsets[i], entry, int(want))
}

// readBlock reads a data or fragment block stored at pos with the given
// size entry, expected to hold want bytes (at most the block size).
func (f *FS) readBlock(pos uint64, entry uint32, want int) ([]byte, error) {
	stored := uint64(entry & blockLengthMask)
	if stored > uint64(f.sb.BlockSize) || pos+stored > f.sb.BytesUsed || pos+stored < pos {
		return nil, corrupt(int64(pos), "data block of %d bytes at %d beyond the image or the block size", stored, pos)
	}
	raw := make([]byte, stored)
	if _, err := f.r.ReadAt(raw, int64(pos)); err != nil {
		return nil, corrupt(int64(pos), "data block: %v", err)
	}
	if entry&blockUncompressed != 0 {
		return raw, nil
	}
	if err := f.budget.Decompress(want); err != nil {
		return nil, err
	}
	out, err := f.sb.Compressor.decompressSized(raw, want)
	if err != nil {
		return nil, decodeError(pos, "data block", f.sb.Compressor, err)
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

// fragmentCache keeps the last few fragment blocks: small files (os-release,
// unit files) are packed together into the same fragments. A block is
// kept as far as it was inflated (see fragment).
type fragmentCache struct {
	mu     sync.Mutex
	blocks map[uint32]fragmentData
}

type fragmentData struct {
	data     []byte
	complete bool // data is the whole block, not a prefix
}

const fragmentCacheEntries = 4

// fragmentStep rounds up how much of a fragment is inflated, so that the
// files packed after one just read come with it.
const fragmentStep = 16 << 10

// fragment returns fragment block idx, decompressed at least to byte need
// (or whole, if it holds less): inflating a 128 KiB block to reach a unit
// file near its start would cost most of an image's time for nothing.
func (f *FS) fragment(idx uint32, need uint64) ([]byte, error) {
	f.frags.mu.Lock()
	cached, ok := f.frags.blocks[idx]
	f.frags.mu.Unlock()
	if ok && (cached.complete || uint64(len(cached.data)) >= need) {
		return cached.data, nil
	}
	if idx >= f.sb.Fragments {
		return nil, corrupt(int64(f.sb.FragmentTableStart), "fragment %d of %d", idx, f.sb.Fragments)
	}
	// The fragment table is an array of pointers to metadata blocks of
	// 512 16-byte entries each.
	ptrAt := f.sb.FragmentTableStart + 8*uint64(idx/512)
	if ptrAt+8 > f.sb.BytesUsed || ptrAt < f.sb.FragmentTableStart {
		return nil, corrupt(int64(f.sb.FragmentTableStart), "fragment table beyond the image")
	}
	var ptr [8]byte
	if _, err := f.r.ReadAt(ptr[:], int64(ptrAt)); err != nil {
		return nil, corrupt(int64(ptrAt), "fragment table: %v", err)
	}
	m, err := f.newMetaReader(binary.LittleEndian.Uint64(ptr[:]), int(idx%512)*16)
	if err != nil {
		return nil, err
	}
	var e errs
	start := e.u64(m)
	entry := e.u32(m)
	if e.err != nil {
		return nil, e.err
	}
	upTo := min(uint64(f.sb.BlockSize), (need+fragmentStep-1)/fragmentStep*fragmentStep)
	frag, err := f.readBlockPrefix(start, entry, int(f.sb.BlockSize), int(upTo))
	if err != nil {
		return nil, err
	}
	f.frags.mu.Lock()
	if f.frags.blocks == nil || len(f.frags.blocks) >= fragmentCacheEntries {
		f.frags.blocks = make(map[uint32]fragmentData, fragmentCacheEntries)
	}
	f.frags.blocks[idx] = frag
	f.frags.mu.Unlock()
	return frag.data, nil
}

// readBlockPrefix reads a block as readBlock does, but inflates only its
// first upTo bytes when the compressor can stop early.
func (f *FS) readBlockPrefix(pos uint64, entry uint32, want, upTo int) (fragmentData, error) {
	if upTo < want && entry&blockUncompressed == 0 {
		stored := uint64(entry & blockLengthMask)
		if stored > uint64(f.sb.BlockSize) || pos+stored > f.sb.BytesUsed || pos+stored < pos {
			return fragmentData{}, corrupt(int64(pos), "data block of %d bytes at %d beyond the image or the block size", stored, pos)
		}
		raw := make([]byte, stored)
		if _, err := f.r.ReadAt(raw, int64(pos)); err != nil {
			return fragmentData{}, corrupt(int64(pos), "data block: %v", err)
		}
		if err := f.budget.Decompress(upTo); err != nil {
			return fragmentData{}, err
		}
		dst := make([]byte, upTo)
		n, streams, err := f.sb.Compressor.decompressPrefix(dst, raw)
		if err != nil {
			return fragmentData{}, decodeError(pos, "fragment block", f.sb.Compressor, err)
		}
		if streams {
			return fragmentData{data: dst[:n], complete: n < upTo}, nil
		}
	}
	data, err := f.readBlock(pos, entry, want)
	return fragmentData{data: data, complete: true}, err
}
