package erofs

import (
	"encoding/binary"
	"io"
)

// segment is a run of a file's bytes stored one way: in data blocks, after
// the inode (the inline tail), or nowhere (a hole, read as zeros).
type segment struct {
	kind segmentKind
	pos  uint64 // byte offset in the image of the first byte asked for
	n    uint64 // bytes from there to the end of the run
}

type segmentKind uint8

const (
	segData segmentKind = iota
	segInline
	segHole
)

// mapFlat finds where byte off (< size) of an uncompressed inode is stored.
func (f *FS) mapFlat(ino *Inode, off uint64) (segment, error) {
	if ino.layout == layoutChunkBased {
		return f.mapChunk(ino, off)
	}
	bs := uint64(f.sb.BlockSize)
	blocks := (ino.size + bs - 1) / bs
	if ino.layout == layoutFlatInline {
		blocks--
	}
	plainEnd := min(blocks*bs, ino.size)
	switch {
	case off >= plainEnd:
		return segment{kind: segInline, pos: ino.dataPos + off - plainEnd, n: ino.size - off}, nil
	case ino.startBlk == nullAddr && ino.layout == layoutFlatPlain:
		return segment{kind: segHole, n: plainEnd - off}, nil
	case ino.startBlk == nullAddr:
		return segment{}, corrupt(int64(ino.pos), "inode %d: inline-tail file without data blocks", ino.nid)
	}
	return segment{kind: segData, pos: uint64(ino.startBlk)*bs + off, n: plainEnd - off}, nil
}

// mapChunk looks byte off up in a chunk-based inode's table, which holds
// one 4-byte block number or 8-byte index per chunk.
func (f *FS) mapChunk(ino *Inode, off uint64) (segment, error) {
	unit := uint64(4)
	if ino.chunkIndexes {
		unit = 8
	}
	chunk := off >> ino.chunkBits
	at := (ino.dataPos+unit-1)&^(unit-1) + chunk*unit
	if at+unit > f.fsSize {
		return segment{}, corrupt(int64(ino.pos), "inode %d: chunk %d's index beyond the image", ino.nid, chunk)
	}
	if err := f.budget.Entries(1); err != nil {
		return segment{}, err
	}
	b, err := f.meta(at, int(unit))
	if err != nil {
		return segment{}, err
	}
	blk := binary.LittleEndian.Uint32(b)
	if ino.chunkIndexes {
		// The first four bytes are the high block bits of the 48-bit
		// layout and a device id, which is masked to nothing without
		// extra devices.
		blk = binary.LittleEndian.Uint32(b[4:])
	}
	start := chunk << ino.chunkBits
	end := min(start+1<<ino.chunkBits, ino.size)
	if blk == nullAddr {
		return segment{kind: segHole, n: end - off}, nil
	}
	bs := uint64(f.sb.BlockSize)
	if uint64(blk)*bs+(end-start) > f.fsSize {
		return segment{}, corrupt(int64(at), "inode %d: chunk %d at block %d beyond the image", ino.nid, chunk, blk)
	}
	return segment{kind: segData, pos: uint64(blk)*bs + off - start, n: end - off}, nil
}

// flatFile serves ReadAt over an uncompressed inode. It keeps no state:
// every read maps its offsets afresh, which costs at most a cached
// metadata block.
type flatFile struct {
	f   *FS
	ino *Inode
}

func (r flatFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := 0
	for len(p) > 0 {
		if uint64(off) >= r.ino.size {
			return n, io.EOF
		}
		seg, err := r.f.mapFlat(r.ino, uint64(off))
		if err != nil {
			return n, err
		}
		k := int(min(uint64(len(p)), seg.n))
		switch seg.kind {
		case segData:
			if seg.pos+uint64(k) > r.f.fsSize {
				return n, corrupt(int64(seg.pos), "inode %d: data beyond the image", r.ino.nid)
			}
			if err := readFull(r.f.r, p[:k], int64(seg.pos), "data block"); err != nil {
				return n, err
			}
		case segHole:
			// Zeros made from nothing read: as decompressed bytes,
			// they are bounded by the bytes read.
			if err := r.f.budget.Decompress(k); err != nil {
				return n, err
			}
			clear(p[:k])
		case segInline:
			b, err := r.f.meta(seg.pos, k)
			if err != nil {
				return n, err
			}
			copy(p, b)
		}
		n += k
		p = p[k:]
		off += int64(k)
	}
	return n, nil
}
