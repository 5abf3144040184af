package squashfs

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Small files (os-release, unit files) are packed together into fragment
// blocks. Each block an image's reads touch is read once and inflated once,
// and only as far as the files read need: the decoder of a streaming
// compressor is kept where it stopped, and goes on when a later file lies
// further into the block.

// fragmentCache keeps the fragment blocks read, most recently used last,
// and the fragment table's index.
type fragmentCache struct {
	mu     sync.Mutex
	blocks []*fragment
	held   int // bytes of the blocks' buffers
	live   int // blocks with a suspended decoder

	index     []uint64 // pointers to the fragment table's metadata blocks
	indexRead bool
	indexErr  error
}

// fragment is one fragment block, decoded as far as data reaches, into a
// buffer of the block size from the pools (given back when the image is
// closed, see Release; an evicted block's buffer is left to the collector,
// as a file may still hold a slice of it).
type fragment struct {
	idx      uint32
	pos      uint64 // where the block is stored, for errors
	data     []byte // the decoded part: a prefix of *buf
	buf      *[]byte
	held     int  // bytes of buf counted in the budget
	complete bool // data is the whole block
	dec      blockStream
	raw      *[]byte // the stored bytes dec reads from, when it does
}

// Bounds of the cache: the decoded bytes kept (a few blocks of the
// default 128 KiB, two of the largest, 1 MiB), and how many decoders may
// wait at once (each holds a dictionary up to the block size).
const (
	fragmentCacheBytes = 2 << 20
	liveDecoders       = 2
)

// fragmentStep rounds up how far a fragment is inflated, so that the files
// packed right after one just read come with it in the same call: a few
// KiB, as a streaming decoder goes on from where it stopped at little cost.
const fragmentStep = 4 << 10

// fragment returns fragment block idx, decoded at least to byte need (or
// whole, if it holds less).
func (f *FS) fragment(idx uint32, need uint64) ([]byte, error) {
	c := &f.frags
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.released.Load() {
		return nil, errReleased
	}
	fr, err := f.cachedFragment(idx)
	if err != nil {
		return nil, err
	}
	if !fr.complete && uint64(len(fr.data)) < need {
		upTo := min(uint64(f.sb.BlockSize), (need+fragmentStep-1)/fragmentStep*fragmentStep)
		if err := f.inflate(fr, int(upTo)); err != nil {
			return nil, err
		}
	}
	data := fr.data
	f.trimFragments(fr)
	return data, nil
}

// cachedFragment finds block idx in the cache, moving it to the end, or
// reads it and adds it. Called with the cache locked.
func (f *FS) cachedFragment(idx uint32) (*fragment, error) {
	c := &f.frags
	for i, fr := range c.blocks {
		if fr.idx == idx {
			copy(c.blocks[i:], c.blocks[i+1:])
			c.blocks[len(c.blocks)-1] = fr
			return fr, nil
		}
	}
	fr, err := f.readFragment(idx)
	if err != nil {
		return nil, err
	}
	c.blocks = append(c.blocks, fr)
	c.held += fr.held
	if fr.dec != nil {
		c.live++
	}
	return fr, nil
}

// readFragment reads fragment block idx. A block of a streaming compressor
// gets its decoder and nothing decoded yet; any other is decoded whole.
// What it returns is counted in the budget: its buffer, and a waiting
// decoder as one more block.
func (f *FS) readFragment(idx uint32) (*fragment, error) {
	if idx >= f.sb.Fragments {
		return nil, corrupt(int64(f.sb.FragmentTableStart), "fragment %d of %d", idx, f.sb.Fragments)
	}
	index, err := f.fragmentIndex()
	if err != nil {
		return nil, err
	}
	// The fragment table is metadata blocks of 512 16-byte entries each.
	m, err := f.newMetaReader(index[idx/512], int(idx%512)*16)
	if err != nil {
		return nil, err
	}
	var e errs
	start := e.u64(m)
	entry := e.u32(m)
	if e.err != nil {
		return nil, e.err
	}
	fr := &fragment{idx: idx, pos: start}
	raw, err := f.readStored(start, entry)
	if err != nil {
		return nil, err
	}
	if entry&blockUncompressed != 0 {
		fr.buf, fr.data, fr.held, fr.complete = raw, *raw, len(*raw), true
		return fr, nil
	}
	size := int(f.sb.BlockSize)
	dropRaw := func() {
		f.budget.Free(len(*raw))
		putBuffer(raw)
	}
	if err := f.budget.Alloc(size); err != nil {
		dropRaw()
		return nil, err
	}
	fr.buf, fr.held = getBuffer(size), size
	fail := func(err error) (*fragment, error) {
		putBuffer(fr.buf)
		f.budget.Free(size)
		return nil, err
	}
	dec, streams, err := f.sb.Compressor.streamDecoder(*raw, *fr.buf)
	switch {
	case err != nil:
		dropRaw()
		return fail(decodeError(start, "fragment block", f.sb.Compressor, err))
	case streams:
		// The decoder's own state (the stored bytes, a dictionary or
		// window) is counted as one block while it waits.
		f.budget.Free(len(*raw))
		if err := f.budget.Alloc(size); err != nil {
			dec.release()
			putBuffer(raw)
			return fail(err)
		}
		fr.dec = dec
		if dec.readsSource() {
			fr.raw = raw
		} else {
			putBuffer(raw)
		}
		return fr, nil
	}
	if err := f.budget.Decompress(size); err != nil {
		dropRaw()
		return fail(err)
	}
	n, err := f.sb.Compressor.decompress(*fr.buf, *raw)
	dropRaw()
	if err != nil {
		return fail(decodeError(start, "fragment block", f.sb.Compressor, err))
	}
	fr.data, fr.complete = (*fr.buf)[:n], true
	return fr, nil
}

// fragmentIndex reads the fragment table's index once: one 8-byte pointer
// per metadata block of 512 entries, right at FragmentTableStart.
func (f *FS) fragmentIndex() ([]uint64, error) {
	c := &f.frags
	if c.indexRead {
		return c.index, c.indexErr
	}
	c.indexRead = true
	n := (uint64(f.sb.Fragments) + 511) / 512
	at := f.sb.FragmentTableStart
	if at+8*n > f.sb.BytesUsed || at+8*n < at {
		c.indexErr = corrupt(int64(at), "fragment table of %d fragments beyond the image", f.sb.Fragments)
		return nil, c.indexErr
	}
	raw := make([]byte, 8*n)
	if err := vfs.ReadFull(f.r, raw, int64(at), "squashfs", "fragment table"); err != nil {
		c.indexErr = err
		return nil, err
	}
	c.index = make([]uint64, n)
	for i := range c.index {
		c.index[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return c.index, nil
}

// inflate goes on decoding fr until it holds upTo bytes or the block ends;
// a block that fails to decode leaves the cache. Called with the cache
// locked.
func (f *FS) inflate(fr *fragment, upTo int) error {
	have := len(fr.data)
	err := f.budget.Decompress(upTo - have)
	if err == nil {
		var done bool
		fr.data, done, err = fr.dec.decodeTo(upTo)
		switch {
		case err != nil:
			err = decodeError(fr.pos, "fragment block", f.sb.Compressor, err)
		case len(fr.data) > upTo:
			// A decoder stops between symbols: the rest of one is
			// counted too.
			err = f.budget.Decompress(len(fr.data) - upTo)
		}
		if err == nil && done {
			f.finish(fr)
		}
	}
	if err != nil {
		f.evict(fr)
	}
	return err
}

// finish marks fr whole and lets its decoder go.
func (f *FS) finish(fr *fragment) {
	fr.complete = true
	if fr.dec != nil {
		fr.dec.release()
		putBuffer(fr.raw)
		fr.dec, fr.raw = nil, nil
		f.frags.live--
		f.budget.Free(int(f.sb.BlockSize))
	}
}

// evict removes fr from the cache and gives back what it held but its
// buffer, which a file may still read from.
func (f *FS) evict(fr *fragment) {
	c := &f.frags
	if fr.dec != nil {
		f.finish(fr)
	}
	for i, b := range c.blocks {
		if b == fr {
			c.blocks = append(c.blocks[:i], c.blocks[i+1:]...)
			c.held -= fr.held
			f.budget.Free(fr.held)
			return
		}
	}
}

// Release gives the buffers of the blocks the image still holds back to
// the pools; the image is closed, and reading it is an error from now on.
func (f *FS) Release() {
	c := &f.frags
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.released.Swap(true) {
		return
	}
	for _, fr := range c.blocks {
		if fr.dec != nil {
			f.finish(fr)
		}
		putBuffer(fr.buf)
		f.budget.Free(fr.held)
	}
	c.blocks, c.held = nil, 0
	f.cache.release(f.budget)
}

var errReleased = errors.New("squashfs: image read after it was closed")

// trimFragments keeps the cache within its bounds, sparing keep (the block
// just read). Past the decoders that may wait, the oldest waiting one
// decodes its block to the end, so that it is never decoded again; past
// the bytes, the oldest blocks go.
func (f *FS) trimFragments(keep *fragment) {
	c := &f.frags
	for c.live > liveDecoders {
		for _, fr := range c.blocks {
			if fr.dec != nil && fr != keep {
				f.inflate(fr, int(f.sb.BlockSize)) // an error evicts it
				break
			}
		}
	}
	for len(c.blocks) > 1 && c.held > max(fragmentCacheBytes, 2*int(f.sb.BlockSize)) {
		old := c.blocks[0]
		if old == keep {
			old = c.blocks[1]
		}
		f.evict(old)
	}
}
