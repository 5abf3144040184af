package inflate

import (
	"encoding/binary"
	"errors"
	"sync"
)

var (
	// ErrTooLong is a stream that decodes to more than the buffer it is
	// decoded into: every SquashFS block has a size bound.
	ErrTooLong   = errors.New("inflate: decoded data longer than its block")
	errTruncated = errors.New("inflate: stream ends early")
	errBlockType = errors.New("inflate: invalid block type")
	errStored    = errors.New("inflate: stored block length does not match its complement")
	errHeader    = errors.New("inflate: invalid code lengths")
	errSymbol    = errors.New("inflate: invalid symbol")
	errDistance  = errors.New("inflate: match reaches before the start of the stream")
)

// padding follows the input copy: the bit reader loads 8 bytes at a time,
// at most 8 past the input's end before it finds the stream cut short.
const padding = 32

type phase uint8

const (
	blockHeader phase = iota // between blocks
	storedBlock
	huffmanBlock
	streamEnd
)

// Decoder decodes one raw DEFLATE stream into a flat buffer, as far as
// asked. The zero value is ready for Reset; a Decoder is reused between
// streams so that its input copy and tables are not allocated again.
type Decoder struct {
	in    []byte // the stream, then padding zeros
	size  int    // the stream's length
	pos   int    // next byte of in to load into bits
	bits  uint64 // loaded bits, the next one lowest; nbits of them count
	nbits uint

	out []byte
	n   int

	phase  phase
	final  bool // the block being decoded is the last
	stored int  // bytes left of a stored block
	err    error

	tables // of the Huffman block being decoded
}

// Reset starts decoding the raw DEFLATE stream src into out, whose length
// bounds the stream's data.
func (d *Decoder) Reset(src, out []byte) {
	d.in = append(append(d.in[:0], src...), make([]byte, padding)...)
	d.size = len(src)
	d.pos, d.bits, d.nbits = 0, 0, 0
	d.out, d.n = out, 0
	d.phase, d.final, d.stored, d.err = blockHeader, false, 0, nil
}

// Bytes returns what is decoded so far.
func (d *Decoder) Bytes() []byte { return d.out[:d.n] }

// Done reports whether the stream's last block is decoded.
func (d *Decoder) Done() bool { return d.phase == streamEnd }

// DecodeTo decodes until at least n bytes are decoded or the stream ends.
// n past the buffer decodes to the end, and a stream with more data than
// the buffer holds is ErrTooLong. A decode may go on a match's length past
// n. Errors stay: every later call returns the same.
func (d *Decoder) DecodeTo(n int) error {
	for d.err == nil && d.phase != streamEnd && d.n < n {
		switch d.phase {
		case blockHeader:
			d.err = d.header()
		case storedBlock:
			d.err = d.copyStored(n)
		case huffmanBlock:
			d.err = d.huffman(n)
		}
		if d.err == nil && d.consumed() > 8*d.size {
			d.err = errTruncated
		}
	}
	return d.err
}

// DecodeAll decodes the whole stream and returns its length.
func (d *Decoder) DecodeAll() (int, error) {
	err := d.DecodeTo(len(d.out) + 1)
	return d.n, err
}

// consumed is how many bits of the stream are used up.
func (d *Decoder) consumed() int { return 8*d.pos - int(d.nbits) }

// refill loads bits until at least 56 are held. The 8 bytes are read at
// pos, which the callers keep within 8 bytes past the end of the stream.
func (d *Decoder) refill() {
	d.bits |= binary.LittleEndian.Uint64(d.in[d.pos:]) << d.nbits
	d.pos += int(7 - d.nbits>>3)
	d.nbits |= 56
}

// take returns the next n (at most 16) bits.
func (d *Decoder) take(n uint) (uint32, error) {
	if d.nbits < n {
		if d.pos > d.size+8 {
			return 0, errTruncated
		}
		d.refill()
	}
	v := uint32(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v, nil
}

// header reads a block header, and for a Huffman block its tables.
func (d *Decoder) header() error {
	if d.final {
		d.phase = streamEnd
		return nil
	}
	h, err := d.take(3)
	if err != nil {
		return err
	}
	d.final = h&1 != 0
	switch h >> 1 {
	case 0:
		return d.storedHeader()
	case 1:
		// The fixed code's lengths are at most 9 bits: primary tables
		// only.
		fixed := fixedTables()
		copy(d.lit[:1<<litRoot], fixed.lit[:1<<litRoot])
		copy(d.dist[:1<<distRoot], fixed.dist[:1<<distRoot])
	case 2:
		if err := d.dynamicTables(); err != nil {
			return err
		}
	default:
		return errBlockType
	}
	d.phase = huffmanBlock
	return nil
}

// storedHeader aligns to a byte and reads a stored block's length.
func (d *Decoder) storedHeader() error {
	d.bits >>= d.nbits & 7
	d.nbits &^= 7
	// The bits held are whole bytes just before pos: read from the bytes.
	d.pos -= int(d.nbits >> 3)
	d.bits, d.nbits = 0, 0
	if d.pos+4 > d.size {
		return errTruncated
	}
	length := binary.LittleEndian.Uint16(d.in[d.pos:])
	if binary.LittleEndian.Uint16(d.in[d.pos+2:]) != ^length {
		return errStored
	}
	d.pos += 4
	d.stored = int(length)
	d.phase = storedBlock
	return nil
}

func (d *Decoder) copyStored(n int) error {
	m := d.stored
	if n <= len(d.out) {
		m = min(m, max(n-d.n, 0))
	}
	if d.pos+m > d.size {
		return errTruncated
	}
	if d.n+m > len(d.out) {
		return ErrTooLong
	}
	copy(d.out[d.n:d.n+m], d.in[d.pos:d.pos+m])
	d.n += m
	d.pos += m
	d.stored -= m
	if d.stored == 0 {
		d.phase = blockHeader
	}
	return nil
}

// codeLengthOrder is the order the code length code's lengths are stored in.
var codeLengthOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicTables reads the code lengths of a dynamic Huffman block and
// builds its tables.
func (d *Decoder) dynamicTables() error {
	var v [3]uint32
	for i, n := range []uint{5, 5, 4} {
		x, err := d.take(n)
		if err != nil {
			return err
		}
		v[i] = x
	}
	nlit, ndist, nclen := int(v[0])+257, int(v[1])+1, int(v[2])+4
	if nlit > 286 || ndist > 30 {
		return errHeader
	}
	var clLens [19]uint8
	for i := range nclen {
		x, err := d.take(3)
		if err != nil {
			return err
		}
		clLens[codeLengthOrder[i]] = uint8(x)
	}
	var cl [1 << 7]entry
	if err := build(cl[:], clLens[:], 7, 0, func(sym, n int) entry { return entry(sym)<<16 | entry(n) }); err != nil {
		return err
	}
	var lens [286 + 30]uint8
	for i := 0; i < nlit+ndist; {
		if d.nbits < 7+7 {
			if d.pos > d.size+8 {
				return errTruncated
			}
			d.refill()
		}
		e := cl[d.bits&(1<<7-1)]
		if e&flagInvalid != 0 {
			return errHeader
		}
		n := uint(e & 31)
		d.bits >>= n
		d.nbits -= n
		sym := int(e >> 16)
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		// A repeat: of the last length, or of zeros.
		rep, bits, val := 11, uint(7), uint8(0)
		switch sym {
		case 16:
			if i == 0 {
				return errHeader
			}
			rep, bits, val = 3, 2, lens[i-1]
		case 17:
			rep, bits = 3, 3
		}
		x, err := d.take(bits)
		if err != nil {
			return err
		}
		rep += int(x)
		if i+rep > nlit+ndist {
			return errHeader
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	if lens[256] == 0 {
		return errHeader // no end of block
	}
	if err := build(d.lit[:], lens[:nlit], litRoot, litSub, litEntry); err != nil {
		return err
	}
	return build(d.dist[:], lens[nlit:nlit+ndist], distRoot, distSub, distEntry)
}

// tables are a Huffman block's decoding tables.
type tables struct {
	lit  [litTableSize]entry
	dist [distTableSize]entry
}

// fixedTables are the tables of the fixed Huffman code, built once.
var fixedTables = sync.OnceValue(func() *tables {
	var lens [numLitLen + numDist]uint8
	for i := range numLitLen {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	for i := range numDist {
		lens[numLitLen+i] = 5
	}
	t := new(tables)
	if build(t.lit[:], lens[:numLitLen], litRoot, litSub, litEntry) != nil || build(t.dist[:], lens[numLitLen:], distRoot, distSub, distEntry) != nil {
		panic("inflate: the fixed code does not build")
	}
	return t
})

// huffman decodes a Huffman block's symbols until n bytes are decoded
// (or, past the buffer, to the end) or the block ends.
func (d *Decoder) huffman(n int) error {
	in, out := d.in, d.out
	bits, nbits, pos, op := d.bits, d.nbits, d.pos, d.n
	limit := d.size + 8
	defer func() { d.bits, d.nbits, d.pos, d.n = bits, nbits, pos, op }()
	stop := min(n, len(out))
	for op < stop {
		if pos > limit {
			return errTruncated
		}
		// At least 56 bits: a length code with its extra bits and a
		// distance code with its extra bits take 48 at most.
		bits |= binary.LittleEndian.Uint64(in[pos:]) << nbits
		pos += int(7 - nbits>>3)
		nbits |= 56
		e := d.lit[bits&(1<<litRoot-1)]
		if e&flagSub != 0 {
			e = d.lit[int(e>>16)+int(bits>>litRoot)&(1<<litSub-1)]
		}
		l := uint(e & 31)
		bits >>= l
		nbits -= l
		if e&flagLiteral != 0 {
			out[op] = byte(e >> 16)
			op++
			continue
		}
		if e&(flagEOB|flagInvalid) != 0 {
			if e&flagInvalid != 0 {
				return errSymbol
			}
			d.phase = blockHeader
			return nil
		}
		extra := uint(e>>8) & 15
		length := int(e>>16) + int(bits&(1<<extra-1))
		bits >>= extra
		nbits -= extra
		e = d.dist[bits&(1<<distRoot-1)]
		if e&flagSub != 0 {
			e = d.dist[int(e>>16)+int(bits>>distRoot)&(1<<distSub-1)]
		}
		if e&flagInvalid != 0 {
			return errSymbol
		}
		l = uint(e & 31)
		bits >>= l
		nbits -= l
		extra = uint(e>>8) & 15
		dist := int(e>>16) + int(bits&(1<<extra-1))
		bits >>= extra
		nbits -= extra
		if dist > op {
			return errDistance
		}
		if length > len(out)-op {
			return ErrTooLong
		}
		from := op - dist
		switch {
		case dist >= 8 && len(out)-op >= length+8:
			// Eight bytes at a time, each from bytes already
			// written; the last word may write past the match, into
			// what is not decoded yet.
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], binary.LittleEndian.Uint64(out[from+i:]))
			}
		case dist == 1 && len(out)-op >= length+8:
			// A run of one byte, eight at a time.
			v := uint64(out[from]) * 0x0101010101010101
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], v)
			}
		case dist >= length:
			copy(out[op:op+length], out[from:from+length])
		default:
			// The match overlaps what it writes: byte by byte.
			for i := range length {
				out[op+i] = out[from+i]
			}
		}
		op += length
	}
	if op == len(out) && n > len(out) {
		return d.pastBuffer(&bits, &nbits, &pos)
	}
	return nil
}

// pastBuffer reads the symbol after a full buffer: the end of the block,
// or more data than a block may hold.
func (d *Decoder) pastBuffer(bits *uint64, nbits *uint, pos *int) error {
	if *pos > d.size+8 {
		return errTruncated
	}
	*bits |= binary.LittleEndian.Uint64(d.in[*pos:]) << *nbits
	*pos += int(7 - *nbits>>3)
	*nbits |= 56
	e := d.lit[*bits&(1<<litRoot-1)]
	if e&flagSub != 0 {
		e = d.lit[int(e>>16)+int(*bits>>litRoot)&(1<<litSub-1)]
	}
	switch {
	case e&flagInvalid != 0:
		return errSymbol
	case e&flagEOB == 0:
		return ErrTooLong
	}
	l := uint(e & 31)
	*bits >>= l
	*nbits -= l
	d.phase = blockHeader
	return nil
}
