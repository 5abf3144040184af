package xz

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// ErrTooLong is a stream that decodes to more than the buffer it is
// decoded into: every SquashFS block has a size bound.
var ErrTooLong = errors.New("xz: decoded data longer than its block")

// Decoder decodes one xz stream into a flat buffer, as far as asked. The
// zero value is ready for Reset; a Decoder is reused between streams so
// that its input copy and probabilities are not allocated again.
type Decoder struct {
	in      []byte // the stream, then maxSymbolBytes+ zeros
	size    int    // the stream's length, without the padding
	ip      int    // where the next structure of the stream starts
	maxDict uint32
	flags   [2]byte // the stream flags: the check type
	out     []byte  // the buffer decoded into; n bytes of it hold data
	n       int

	// The block being decoded.
	blockStart int // its header, in in
	headerSize int
	dataStart  int // its LZMA2 data, in in
	blockOut   int // where its data starts in out
	compressed int64
	unpacked   int64 // -1 when the header does not say
	dictSize   uint32
	records    []record
	inBlock    bool
	done       bool // the stream is decoded and verified to its footer
	err        error
	chunk      chunkState
	lz         lzma
	rc         rangeDecoder
	dictBase   int // where the dictionary starts in out (the last reset)
	needReset  bool
	needProps  bool
}

// record is a block as the index lists it.
type record struct{ unpadded, uncompressed uint64 }

var crc64Table = crc64.MakeTable(crc64.ECMA)

// Reset starts decoding src into out, whose length bounds the stream's
// data. The stream header and the first block header are checked now: a
// filter chain or a dictionary larger than maxDict is refused before
// anything is decoded.
func (d *Decoder) Reset(src, out []byte, maxDict uint32) error {
	d.in = append(append(d.in[:0], src...), make([]byte, 2*maxSymbolBytes)...)
	d.size = len(src)
	d.maxDict = maxDict
	d.out, d.n = out, 0
	d.records = d.records[:0]
	d.inBlock, d.done, d.err = false, false, nil
	d.chunk = chunkState{}
	if err := d.streamHeader(); err != nil {
		d.err = err
		return err
	}
	if err := d.blockHeader(); err != nil {
		d.err = err
		return err
	}
	return nil
}

// Bytes returns what is decoded so far.
func (d *Decoder) Bytes() []byte { return d.out[:d.n] }

// Done reports whether the stream is decoded to its end and verified.
func (d *Decoder) Done() bool { return d.done }

// DecodeTo decodes until at least n bytes are decoded or the stream ends
// (then verified). n past the buffer decodes to the end, and a stream with
// more data than the buffer holds is ErrTooLong. A decode may go on a
// match's length past n. Errors stay: every later call returns the same.
func (d *Decoder) DecodeTo(n int) error {
	for d.err == nil && !d.done && d.n < n {
		d.err = d.step(n)
	}
	return d.err
}

// DecodeAll decodes the whole stream and returns its length.
func (d *Decoder) DecodeAll() (int, error) {
	err := d.DecodeTo(len(d.out) + 1)
	return d.n, err
}

var errTruncated = errors.New("xz: stream ends early")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("xz: "+format, args...)
}

// need checks that n bytes of the stream follow ip.
func (d *Decoder) need(n int) error {
	if d.ip+n > d.size || d.ip+n < d.ip {
		return errTruncated
	}
	return nil
}

var streamMagic = []byte("\xfd7zXZ\x00")

func (d *Decoder) streamHeader() error {
	if d.size < 12 || !bytes.Equal(d.in[:6], streamMagic) {
		return errors.New("xz: no stream header")
	}
	copy(d.flags[:], d.in[6:8])
	if d.flags[0] != 0 || d.flags[1] > 0x0f || crc32.ChecksumIEEE(d.flags[:]) != binary.LittleEndian.Uint32(d.in[8:]) {
		return errors.New("xz: bad stream flags")
	}
	switch d.flags[1] {
	case 0, 1, 4, 10: // none, CRC32, CRC64, SHA-256
	default:
		return vfs.Unsupportedf("xz check type %d", d.flags[1])
	}
	d.ip = 12
	return nil
}

// checkSize is the size of the check after each block.
func (d *Decoder) checkSize() int {
	return [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}[d.flags[1]]
}

// varint reads a multibyte integer of the stream at d.ip from b, which
// ends where the structure holding it ends.
func varint(b []byte, p *int) (uint64, bool) {
	var v uint64
	for i := 0; i < 9 && *p < len(b); i++ {
		c := b[*p]
		*p++
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			// The shortest encoding only: no trailing zero byte.
			return v, i == 0 || c != 0
		}
	}
	return 0, false
}

// blockHeader reads the header of the block at d.ip, or finds the index
// there.
func (d *Decoder) blockHeader() error {
	if err := d.need(1); err != nil {
		return err
	}
	if d.in[d.ip] == 0 {
		return d.index()
	}
	size := (int(d.in[d.ip]) + 1) * 4
	if err := d.need(size); err != nil {
		return errors.New("xz: block header beyond the stream")
	}
	h := d.in[d.ip : d.ip+size]
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return errors.New("xz: block header checksum mismatch")
	}
	h = h[:size-4]
	flags := h[1]
	if flags&0x3c != 0 {
		return errors.New("xz: reserved block flags set")
	}
	if filters := flags&3 + 1; filters != 1 {
		return vfs.Unsupportedf("squashfs xz blocks with a chain of %d filters (mksquashfs -Xbcj)", filters)
	}
	p := 2
	d.compressed, d.unpacked = -1, -1
	for _, f := range []struct {
		bit byte
		v   *int64
	}{{0x40, &d.compressed}, {0x80, &d.unpacked}} {
		if flags&f.bit == 0 {
			continue
		}
		v, ok := varint(h, &p)
		if !ok || v == 0 || v > 1<<62 {
			return errors.New("xz: bad size in block header")
		}
		*f.v = int64(v)
	}
	id, ok1 := varint(h, &p)
	propSize, ok2 := varint(h, &p)
	if !ok1 || !ok2 {
		return errors.New("xz: bad filter flags")
	}
	if id != 0x21 {
		return vfs.Unsupportedf("squashfs xz filter %#x", id)
	}
	if propSize != 1 || p >= len(h) {
		return errors.New("xz: bad filter flags")
	}
	b := h[p]
	p++
	if b > 40 {
		return fmt.Errorf("xz: dictionary size code %d", b)
	}
	dict := uint64(2|b&1) << (b/2 + 11)
	if b == 40 {
		dict = 1<<32 - 1
	}
	if dict > uint64(d.maxDict) {
		return fmt.Errorf("xz: a dictionary of %d bytes, but no block needs more than %d", dict, d.maxDict)
	}
	for ; p < len(h); p++ {
		if h[p] != 0 {
			return errors.New("xz: block header padding not zero")
		}
	}
	d.dictSize = uint32(dict)
	d.blockStart, d.headerSize = d.ip, size
	d.ip += size
	d.dataStart, d.blockOut = d.ip, d.n
	d.inBlock = true
	d.needReset, d.needProps = true, true
	return nil
}

// endBlock checks what follows a block's LZMA2 data: its sizes, padding
// and check; then the next block or the index.
func (d *Decoder) endBlock() error {
	d.inBlock = false
	compressed := int64(d.ip - d.dataStart)
	unpacked := int64(d.n - d.blockOut)
	if d.compressed >= 0 && d.compressed != compressed || d.unpacked >= 0 && d.unpacked != unpacked {
		return errors.New("xz: block sizes differ from its header")
	}
	for (d.ip-d.blockStart)%4 != 0 {
		if err := d.need(1); err != nil {
			return err
		}
		if d.in[d.ip] != 0 {
			return errors.New("xz: block padding not zero")
		}
		d.ip++
	}
	cs := d.checkSize()
	if err := d.need(cs); err != nil {
		return err
	}
	if !d.checkMatches(d.out[d.blockOut:d.n], d.in[d.ip:d.ip+cs]) {
		return errors.New("xz: check of the decoded data does not match")
	}
	d.ip += cs
	d.records = append(d.records, record{uint64(d.headerSize) + uint64(compressed) + uint64(cs), uint64(unpacked)})
	return d.blockHeader()
}

func (d *Decoder) checkMatches(data, want []byte) bool {
	switch d.flags[1] {
	case 0:
		return true
	case 1:
		return crc32.ChecksumIEEE(data) == binary.LittleEndian.Uint32(want)
	case 4:
		return crc64.Checksum(data, crc64Table) == binary.LittleEndian.Uint64(want)
	case 10:
		sum := sha256.Sum256(data)
		return bytes.Equal(sum[:], want)
	}
	return false
}

// index checks the index against the blocks decoded, then the footer.
func (d *Decoder) index() error {
	start := d.ip
	d.ip++ // the indicator
	end := d.size
	b := d.in[:end]
	count, ok := varint(b, &d.ip)
	if !ok || count != uint64(len(d.records)) {
		return errors.New("xz: index does not list the blocks")
	}
	for _, r := range d.records {
		unpadded, ok1 := varint(b, &d.ip)
		uncompressed, ok2 := varint(b, &d.ip)
		if !ok1 || !ok2 || unpadded != r.unpadded || uncompressed != r.uncompressed {
			return errors.New("xz: index does not match the blocks")
		}
	}
	for (d.ip-start)%4 != 0 {
		if d.ip >= end || d.in[d.ip] != 0 {
			return errors.New("xz: bad index padding")
		}
		d.ip++
	}
	if d.ip+4 > end || crc32.ChecksumIEEE(d.in[start:d.ip]) != binary.LittleEndian.Uint32(d.in[d.ip:]) {
		return errors.New("xz: index checksum mismatch")
	}
	d.ip += 4
	indexSize := d.ip - start
	// The footer follows right after; bytes after it are not read, as
	// the kernel does not read them.
	if d.ip+12 > d.size {
		return errTruncated
	}
	f := d.in[d.ip : d.ip+12]
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f) ||
		(uint64(binary.LittleEndian.Uint32(f[4:]))+1)*4 != uint64(indexSize) ||
		f[8] != d.flags[0] || f[9] != d.flags[1] || f[10] != 'Y' || f[11] != 'Z' {
		return errors.New("xz: bad stream footer")
	}
	d.ip += 12
	d.done = true
	return nil
}
