package squashfs

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// metadataBlockSize is the most a metadata block decompresses to.
const metadataBlockSize = 8192

// metaBlock is one metadata block, decoded as far as reads reached, and
// where the next begins.
//
// A lookup needs one inode or one run of directory entries of a block, so
// the block of a streaming compressor (gzip, xz: the slow ones) is decoded
// only up to the last byte a read needs, its decoder kept for a later read
// further in, as fragment blocks are. The others are decoded whole.
type metaBlock struct {
	data []byte // the decoded part: all of it once complete
	pos  uint64 // where the block is stored, for errors
	next uint64
	held int     // bytes counted in the budget
	buf  *[]byte // data's buffer, from the pools (nil for a stored block)

	complete bool
	dec      blockStream // set while the block is decoded in part
	err      error       // why decoding the rest failed, for every later read
}

// metaCache keeps the metadata blocks of one image that were already
// decompressed, and the stored bytes last read around them. Paths share
// their first blocks (the root directory, the inodes of /usr and
// /usr/lib), so a few dozen entries save most of the work; the cap bounds
// memory on hostile images, the oldest block going first.
type metaCache struct {
	mu     sync.Mutex
	blocks map[uint64]*metaBlock
	order  []uint64     // positions, oldest first
	live   []*metaBlock // the blocks with a waiting decoder, oldest first
	// windows are the last runs of stored metadata bytes read: a block's
	// length word is read with the block, and the speculative rest often
	// holds the next blocks, which follow each other.
	windows []window // most recently used last
}

type window struct {
	pos  uint64
	data []byte // *buf, from the pools
	buf  *[]byte
}

const (
	metaCacheEntries = 64
	metaWindows      = 16
	metaWindowBytes  = 256 << 10
	// metaLiveDecoders bounds the metadata blocks whose decoder waits
	// (each holds a copy of its input and its tables or probabilities):
	// past it, the oldest is decoded to its end.
	metaLiveDecoders = 4
	// metaStep rounds up how far a block is decoded, so that the inodes
	// and entries right after the one read come with it.
	metaStep = 1 << 10
)

// stored is the most a metadata block takes on disk: its length word and
// at most metadataBlockSize bytes.
const stored = 2 + metadataBlockSize

// metaBlockAt reads the metadata block at pos and decodes it at least to
// byte need (or whole, if it holds less); it returns the block and its
// decoded part.
func (f *FS) metaBlockAt(pos uint64, need int) (*metaBlock, []byte, error) {
	c := &f.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.released.Load() {
		return nil, nil, errReleased
	}
	b := c.blocks[pos]
	if b == nil {
		var err error
		if b, err = f.readMetaBlock(pos); err != nil {
			return nil, nil, err
		}
		f.cacheMeta(pos, b)
	}
	if !b.complete && len(b.data) < need {
		f.decodeMeta(b, min(metadataBlockSize, (need+metaStep-1)/metaStep*metaStep))
		if b.err != nil && len(b.data) < need {
			// What was decoded before the damage still serves reads.
			return nil, nil, b.err
		}
	}
	return b, b.data, nil
}

// readMetaBlock reads the metadata block at pos: a stored block whole, a
// block of a streaming compressor with its decoder and nothing decoded
// yet, any other decoded whole. Called with the cache locked.
func (f *FS) readMetaBlock(pos uint64) (*metaBlock, error) {
	raw, err := f.storedMeta(pos)
	if err != nil {
		return nil, err
	}
	length := uint64(len(raw))
	h := binary.LittleEndian.Uint16(raw)
	raw = raw[2:]
	b := &metaBlock{pos: pos, next: pos + length, complete: true}
	if h&0x8000 != 0 {
		b.data = bytes.Clone(raw) // not a view of the window, which goes
		b.held = len(b.data)
		if err := f.budget.Alloc(b.held); err != nil {
			return nil, err
		}
		return b, nil
	}
	// Decoded straight into the block kept: all but a table's last block
	// are full. Counted whole, decoded in part or not.
	if err := f.budget.Decompress(metadataBlockSize); err != nil {
		return nil, err
	}
	if err := f.budget.Alloc(metadataBlockSize); err != nil {
		return nil, err
	}
	buf := getBuffer(metadataBlockSize)
	fail := func(err error) (*metaBlock, error) {
		putBuffer(buf)
		f.budget.Free(metadataBlockSize)
		return nil, decodeError(pos, "metadata block", f.sb.Compressor, err)
	}
	b.held, b.buf = metadataBlockSize, buf
	if c := f.sb.Compressor; c == Gzip || c == XZ {
		// The decoders of both keep a copy of raw, a view of a window
		// that may go.
		dec, _, err := c.streamDecoder(raw, *buf)
		if err != nil {
			return fail(err)
		}
		b.dec, b.data, b.complete = dec, (*buf)[:0], false
		return b, nil
	}
	n, err := f.sb.Compressor.decompress(*buf, raw)
	if err != nil {
		return fail(err)
	}
	b.data = (*buf)[:n]
	return b, nil
}

// cacheMeta adds block b at pos to the cache, the oldest block going past
// its bound, and bounds the decoders that wait. Called with the cache
// locked.
func (f *FS) cacheMeta(pos uint64, b *metaBlock) {
	c := &f.cache
	if len(c.order) >= metaCacheEntries {
		old := c.order[0]
		c.order = c.order[1:]
		f.dropMeta(old, c.blocks[old])
	}
	if c.blocks == nil {
		c.blocks = make(map[uint64]*metaBlock, metaCacheEntries)
	}
	c.blocks[pos] = b
	c.order = append(c.order, pos)
	if b.dec == nil {
		return
	}
	c.live = append(c.live, b)
	if len(c.live) > metaLiveDecoders {
		// Decoded to its end, the oldest never needs its decoder again.
		f.decodeMeta(c.live[0], metadataBlockSize)
	}
}

// decodeMeta goes on decoding b until it holds upTo bytes or the block
// ends; an error is kept in b. Called with the cache locked.
func (f *FS) decodeMeta(b *metaBlock, upTo int) {
	if b.complete || b.err != nil {
		return
	}
	data, done, err := b.dec.decodeTo(upTo)
	if err != nil {
		// The bytes this call decoded are not served: the error may
		// be the xz check of those very bytes, or a stream longer
		// than a block. What earlier calls decoded, reads may already
		// have used, and it stays.
		b.err = decodeError(b.pos, "metadata block", f.sb.Compressor, err)
		f.stopMeta(b)
		return
	}
	b.data = data
	if done {
		b.complete = true
		f.stopMeta(b)
	}
}

// stopMeta lets b's decoder go, if it has one. Called with the cache
// locked.
func (f *FS) stopMeta(b *metaBlock) {
	if b.dec == nil {
		return
	}
	b.dec.release()
	b.dec = nil
	c := &f.cache
	if i := slices.Index(c.live, b); i >= 0 {
		c.live = slices.Delete(c.live, i, i+1)
	}
}

// dropMeta removes block b at pos from the cache. Its buffer is left to
// the collector, not given back to the pools (Release gives back only the
// blocks still cached): a metaReader may still read it. Called with the
// cache locked.
func (f *FS) dropMeta(pos uint64, b *metaBlock) {
	f.stopMeta(b)
	f.budget.Free(b.held)
	delete(f.cache.blocks, pos)
}

// storedMeta returns the stored bytes of the metadata block at pos, its
// length word first, in at most one read of the image: the word and what
// may follow it are read together, and bytes an earlier read brought along
// are not read again. Called with the cache locked.
func (f *FS) storedMeta(pos uint64) ([]byte, error) {
	c := &f.cache
	if pos+2 > f.sb.BytesUsed || pos+2 < pos {
		return nil, corrupt(int64(pos), "metadata block beyond the %d bytes used", f.sb.BytesUsed)
	}
	w := c.windowAt(pos)
	var have []byte
	if w >= 0 {
		have = c.windows[w].data[pos-c.windows[w].pos:]
	}
	if len(have) < 2 || len(have) < 2+int(binary.LittleEndian.Uint16(have)&0x7fff) {
		var err error
		if w, err = f.readMetaRun(pos, w); err != nil {
			return nil, err
		}
		have = c.windows[w].data[pos-c.windows[w].pos:]
	}
	if len(have) < 2 {
		// The run read ends within the length word: the image ends there.
		return nil, corrupt(int64(pos), "metadata block header cut short at the end of the image")
	}
	// The run used last goes last: the oldest goes first.
	win := c.windows[w]
	c.windows = append(append(c.windows[:w], c.windows[w+1:]...), win)
	length := uint64(binary.LittleEndian.Uint16(have) & 0x7fff)
	if length == 0 || length > metadataBlockSize || pos+2+length > f.sb.BytesUsed || int(length)+2 > len(have) {
		return nil, corrupt(int64(pos), "metadata block of %d bytes", length)
	}
	return have[:2+length], nil
}

// windowAt returns the index of the run holding byte pos, -1 if none.
func (c *metaCache) windowAt(pos uint64) int {
	for i, win := range c.windows {
		if pos >= win.pos && pos < win.pos+uint64(len(win.data)) {
			return i
		}
	}
	return -1
}

// readMetaRun reads the image from pos (or the end of run w, which holds
// pos) on, as far as a metadata block can reach, within the image and up
// to the next run already read; the runs it touches become one, and the
// oldest runs go past metaWindowBytes. It returns the index of the run
// holding pos.
func (f *FS) readMetaRun(pos uint64, w int) (int, error) {
	c := &f.cache
	start, from := pos, pos
	var head []byte
	if w >= 0 {
		start, head = c.windows[w].pos, c.windows[w].data
		from = start + uint64(len(head))
	}
	end := min(pos+stored, f.sb.BytesUsed)
	if pos < f.sb.FragmentTableStart {
		end = min(end, f.sb.FragmentTableStart) // the fragment index is read on its own
	}
	next := -1
	for i, win := range c.windows {
		if win.pos >= from && win.pos < end {
			end, next = win.pos, i
		}
	}
	if end < from {
		end = from
	}
	var tail []byte
	if next >= 0 {
		tail = c.windows[next].data
	}
	size := len(head) + int(end-from) + len(tail)
	if err := f.budget.Alloc(size); err != nil {
		return 0, err
	}
	bp := getBuffer(size)
	buf := *bp
	copy(buf, head)
	if err := vfs.ReadFull(f.r, buf[len(head):len(head)+int(end-from)], int64(from), "squashfs", "metadata block"); err != nil {
		f.budget.Free(size)
		putBuffer(bp)
		return 0, err
	}
	copy(buf[len(head)+int(end-from):], tail)
	// Drop the runs merged into the new one, then the oldest past the
	// bound, and add it.
	kept := c.windows[:0]
	held := size
	for i, win := range c.windows {
		if i == w || i == next {
			f.budget.Free(len(win.data))
			putBuffer(win.buf) // copied into the new run
			continue
		}
		kept = append(kept, win)
		held += len(win.data)
	}
	c.windows = kept
	for len(c.windows) > 0 && (held > metaWindowBytes || len(c.windows) >= metaWindows) {
		held -= len(c.windows[0].data)
		f.budget.Free(len(c.windows[0].data))
		putBuffer(c.windows[0].buf)
		c.windows = c.windows[1:]
	}
	c.windows = append(c.windows, window{pos: start, data: buf, buf: bp})
	return len(c.windows) - 1, nil
}

// metaReader reads a byte stream that runs on across metadata blocks, as
// inodes, directory listings and block lists do.
type metaReader struct {
	f     *FS
	block *metaBlock
	data  []byte // the part of block decoded when last asked
	pos   uint64 // position of block in the image
	off   int    // offset within block
}

// newMetaReader starts reading at byte off of the metadata block at pos.
func (f *FS) newMetaReader(pos uint64, off int) (*metaReader, error) {
	b, data, err := f.metaBlockAt(pos, off+1)
	if err != nil {
		return nil, err
	}
	if off > len(data) {
		return nil, corrupt(int64(pos), "offset %d beyond the %d-byte metadata block", off, len(data))
	}
	return &metaReader{f: f, block: b, data: data, pos: pos, off: off}, nil
}

// read fills p, crossing into following metadata blocks as needed.
func (m *metaReader) read(p []byte) error {
	for len(p) > 0 {
		if m.off+len(p) > len(m.data) {
			// Decoded further, if the block goes on.
			_, data, err := m.f.metaBlockAt(m.pos, m.off+len(p))
			if err != nil {
				return err
			}
			m.data = data
		}
		if m.off == len(m.data) {
			// The block ends here: on into the next.
			next := m.block.next
			b, data, err := m.f.metaBlockAt(next, len(p))
			if err != nil {
				return err
			}
			m.pos, m.block, m.data, m.off = next, b, data, 0
		}
		n := copy(p, m.data[m.off:])
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

// release gives the cached blocks' and runs' buffers back to the pools and
// empties the cache. Called from Release.
func (c *metaCache) release(b *vfs.Budget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, blk := range c.blocks {
		if blk.dec != nil {
			blk.dec.release()
			blk.dec = nil
		}
		b.Free(blk.held)
		putBuffer(blk.buf)
	}
	for _, win := range c.windows {
		b.Free(len(win.data))
		putBuffer(win.buf)
	}
	c.blocks, c.order, c.windows, c.live = nil, nil, nil, nil
}
