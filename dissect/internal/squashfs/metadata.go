package squashfs

import (
	"encoding/binary"
	"sync"
)

// metadataBlockSize is the most a metadata block decompresses to.
const metadataBlockSize = 8192

// metaBlock is one decompressed metadata block and where the next begins.
type metaBlock struct {
	data []byte
	next uint64
}

// metaCache keeps the metadata blocks of one image that were already
// decompressed. Paths share their first blocks (the root directory, the
// inodes of /usr and /usr/lib), so a handful of entries saves most of the
// work; the cap bounds memory on hostile images.
type metaCache struct {
	mu     sync.Mutex
	blocks map[uint64]*metaBlock
}

const metaCacheEntries = 64

func (c *metaCache) get(pos uint64) *metaBlock {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[pos]
}

func (c *metaCache) put(pos uint64, b *metaBlock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks == nil || len(c.blocks) >= metaCacheEntries {
		c.blocks = make(map[uint64]*metaBlock, metaCacheEntries)
	}
	c.blocks[pos] = b
}

// metaBlockAt reads and decompresses the metadata block at pos.
func (f *FS) metaBlockAt(pos uint64) (*metaBlock, error) {
	if b := f.cache.get(pos); b != nil {
		return b, nil
	}
	if pos+2 > f.sb.BytesUsed {
		return nil, corrupt(int64(pos), "metadata block beyond the %d bytes used", f.sb.BytesUsed)
	}
	var hdr [2]byte
	if _, err := f.r.ReadAt(hdr[:], int64(pos)); err != nil {
		return nil, corrupt(int64(pos), "metadata block header: %v", err)
	}
	h := binary.LittleEndian.Uint16(hdr[:])
	length, uncompressed := uint64(h&0x7fff), h&0x8000 != 0
	if length == 0 || length > metadataBlockSize || pos+2+length > f.sb.BytesUsed {
		return nil, corrupt(int64(pos), "metadata block of %d bytes", length)
	}
	raw := make([]byte, length)
	if _, err := f.r.ReadAt(raw, int64(pos)+2); err != nil {
		return nil, corrupt(int64(pos)+2, "metadata block: %v", err)
	}
	b := &metaBlock{data: raw, next: pos + 2 + length}
	if !uncompressed {
		if err := f.budget.Decompress(metadataBlockSize); err != nil {
			return nil, err
		}
		out, err := f.sb.Compressor.decompressSized(raw, metadataBlockSize)
		if err != nil {
			return nil, decodeError(pos, "metadata block", f.sb.Compressor, err)
		}
		b.data = out
	}
	f.cache.put(pos, b)
	return b, nil
}

// metaReader reads a byte stream that runs on across metadata blocks, as
// inodes, directory listings and block lists do.
type metaReader struct {
	f     *FS
	block *metaBlock
	pos   uint64 // position of block in the image
	off   int    // offset within block.data
}

// newMetaReader starts reading at byte off of the metadata block at pos.
func (f *FS) newMetaReader(pos uint64, off int) (*metaReader, error) {
	b, err := f.metaBlockAt(pos)
	if err != nil {
		return nil, err
	}
	if off > len(b.data) {
		return nil, corrupt(int64(pos), "offset %d beyond the %d-byte metadata block", off, len(b.data))
	}
	return &metaReader{f: f, block: b, pos: pos, off: off}, nil
}

// read fills p, crossing into following metadata blocks as needed.
func (m *metaReader) read(p []byte) error {
	for len(p) > 0 {
		if m.off == len(m.block.data) {
			b, err := m.f.metaBlockAt(m.block.next)
			if err != nil {
				return err
			}
			m.pos, m.block, m.off = m.block.next, b, 0
		}
		n := copy(p, m.block.data[m.off:])
		m.off += n
		p = p[n:]
	}
	return nil
}

func (m *metaReader) u16() (uint16, error) {
	var b [2]byte
	err := m.read(b[:])
	return binary.LittleEndian.Uint16(b[:]), err
}

func (m *metaReader) u32() (uint32, error) {
	var b [4]byte
	err := m.read(b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

func (m *metaReader) u64() (uint64, error) {
	var b [8]byte
	err := m.read(b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}
