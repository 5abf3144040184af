package xz

import "errors"

// The LZMA2 layer: a block's data is a run of chunks, each either stored
// or LZMA-coded, ended by a zero byte. A chunk says how much it decodes
// to, how long it is, and whether the dictionary, the state or the
// properties start over.

type chunkKind uint8

const (
	noChunk     chunkKind = iota // between chunks: a control byte is next
	storedChunk                  // stored bytes, copied
	lzmaChunk                    // range-coded
)

type chunkState struct {
	kind   chunkKind
	inEnd  int // where the chunk's input ends, in the stream
	outEnd int // where its output ends, in out
}

var (
	errControl   = errors.New("xz: invalid LZMA2 control byte")
	errNeedReset = errors.New("xz: LZMA2 data without a dictionary reset first")
	errNeedProps = errors.New("xz: LZMA2 chunk without properties first")
	errChunkEnd  = errors.New("xz: LZMA chunk does not end where its sizes say")
)

// step decodes towards n: the next chunk header, the end of the block, or
// as much of the current chunk as n needs.
func (d *Decoder) step(n int) error {
	if !d.inBlock {
		return d.blockHeader()
	}
	c := &d.chunk
	switch c.kind {
	case noChunk:
		return d.chunkHeader()
	case storedChunk:
		m := min(c.outEnd, max(n, d.n)) - d.n
		copy(d.out[d.n:d.n+m], d.in[d.ip:d.ip+m])
		d.n += m
		d.ip += m
		if d.n == c.outEnd {
			c.kind = noChunk
		}
		return nil
	}
	stop := min(c.outEnd, max(n, d.n+1))
	var err error
	d.n, err = d.lz.decode(&d.rc, d.out, d.n, stop, c.outEnd, d.dictBase, c.inEnd, d.dictSize)
	if err != nil {
		return corrupt("%v", err)
	}
	if d.n == c.outEnd {
		if d.rc.ip != c.inEnd || d.rc.code != 0 {
			return errChunkEnd
		}
		d.ip = c.inEnd
		c.kind = noChunk
	}
	return nil
}

// chunkHeader reads a control byte and what follows it.
func (d *Decoder) chunkHeader() error {
	if err := d.need(1); err != nil {
		return err
	}
	control := d.in[d.ip]
	d.ip++
	if control == 0 {
		if d.needReset {
			return errNeedReset // a block of no chunks at all
		}
		return d.endBlock()
	}
	switch {
	case control >= 0xe0 || control == 0x01:
		d.needProps, d.needReset = true, false
		d.dictBase = d.n
	case d.needReset:
		return errNeedReset
	case control > 0x02 && control < 0x80:
		return errControl
	}
	c := &d.chunk
	if control < 0x80 {
		// Stored: the size, then the bytes.
		if err := d.need(2); err != nil {
			return err
		}
		size := int(d.in[d.ip])<<8 | int(d.in[d.ip+1]) + 1
		d.ip += 2
		if err := d.need(size); err != nil {
			return err
		}
		if d.n+size > len(d.out) {
			return ErrTooLong
		}
		c.kind, c.inEnd, c.outEnd = storedChunk, d.ip+size, d.n+size
		return nil
	}
	if err := d.need(4); err != nil {
		return err
	}
	unpacked := int(control&0x1f)<<16 | int(d.in[d.ip])<<8 | int(d.in[d.ip+1]) + 1
	packed := int(d.in[d.ip+2])<<8 | int(d.in[d.ip+3]) + 1
	d.ip += 4
	switch {
	case control >= 0xc0:
		if err := d.need(1); err != nil {
			return err
		}
		if err := d.lz.setProperties(d.in[d.ip]); err != nil {
			return corrupt("%v", err)
		}
		d.ip++
		d.needProps = false
	case d.needProps:
		return errNeedProps
	case control >= 0xa0:
		d.lz.reset()
	}
	if packed < 5 {
		return errChunkEnd
	}
	if err := d.need(packed); err != nil {
		return err
	}
	if d.n+unpacked > len(d.out) {
		return ErrTooLong
	}
	c.kind, c.inEnd, c.outEnd = lzmaChunk, d.ip+packed, d.n+unpacked
	d.rc = rangeDecoder{in: d.in, ip: d.ip}
	d.rc.init()
	return nil
}
