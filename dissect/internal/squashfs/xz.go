package squashfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/therootcompany/xz"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// maxDict bounds the LZMA dictionary a block may ask for. The decoder
// allocates whatever a stream header names, up to 4 GiB, before it decodes
// a byte; no SquashFS block decodes to more than the largest block size,
// and mksquashfs sets the dictionary to the block size, so a larger one is
// refused before anything is allocated (the kernel refuses it too).
const maxDict = 1 << 20

// decodeXZ decodes an xz stream as mksquashfs writes one per block: a
// stream header, a single block of LZMA2 data, then the index and footer.
// The headers are checked here first, so that the dictionary a block asks
// for is refused before a decoder allocates it.
func decodeXZ(dst, src []byte) (int, error) {
	xr, err := xzBlockReader(src)
	if err != nil {
		return 0, err
	}
	defer xzReaders.Put(xr)
	n, err := readAllInto(xr, dst)
	if err != nil {
		return n, fmt.Errorf("xz: %w", err)
	}
	return n, nil
}

// xzReaders keeps xz decoders between blocks: each holds a dictionary as
// large as the block size, which a new decoder would allocate again.
var xzReaders sync.Pool

// xzBlockReader checks the stream's headers and returns a decoder of it
// (from xzReaders, where the caller puts it back), which checks the data's
// CRC, the index and the footer when read to its end. It decodes only as
// far as it is read: a caller may want only a prefix.
//
// github.com/therootcompany/xz, a port of XZ Embedded, decodes the
// squashfs xz blocks of a Debian tree about 2.4 times as fast as
// github.com/ulikunitz/xz and keeps its dictionary when reset.
func xzBlockReader(src []byte) (*xz.Reader, error) {
	_, _, hdr, err := xzBlock(src)
	if err != nil {
		return nil, err
	}
	if _, err := lzma2Dict(hdr[1 : len(hdr)-4]); err != nil {
		return nil, err
	}
	if xr, ok := xzReaders.Get().(*xz.Reader); ok {
		if err := xr.Reset(bytes.NewReader(src)); err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		xr.Multistream(false)
		return xr, nil
	}
	xr, err := xz.NewReader(bytes.NewReader(src), maxDict)
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	xr.Multistream(false)
	return xr, nil
}

// xzBlock checks the stream header and the block header and returns the
// stream flags, the block onwards, and the block header.
func xzBlock(src []byte) (flags, block, hdr []byte, err error) {
	const streamHeader = 12
	if len(src) < streamHeader || !bytes.Equal(src[:6], []byte("\xfd7zXZ\x00")) {
		return nil, nil, nil, errors.New("xz: no stream header")
	}
	flags = src[6:8]
	if flags[0] != 0 || flags[1] > 0x0f || crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(src[8:]) {
		return nil, nil, nil, errors.New("xz: bad stream flags")
	}
	block = src[streamHeader:]
	if len(block) == 0 || block[0] == 0 {
		return nil, nil, nil, errors.New("xz: stream without a block")
	}
	hdrLen := (int(block[0]) + 1) * 4
	if hdrLen > len(block) {
		return nil, nil, nil, errors.New("xz: block header beyond the stream")
	}
	hdr = block[:hdrLen]
	if crc32.ChecksumIEEE(hdr[:hdrLen-4]) != binary.LittleEndian.Uint32(hdr[hdrLen-4:]) {
		return nil, nil, nil, errors.New("xz: block header checksum mismatch")
	}
	return flags, block, hdr, nil
}

// lzma2Dict reads the block flags and filter flags of an xz block header
// and returns the dictionary size of its one LZMA2 filter.
func lzma2Dict(h []byte) (uint64, error) {
	flags := h[0]
	if flags&0x3c != 0 {
		return 0, errors.New("xz: reserved block flags set")
	}
	if filters := flags&3 + 1; filters != 1 {
		return 0, vfs.Unsupportedf("squashfs xz blocks with a chain of %d filters (mksquashfs -Xbcj)", filters)
	}
	p := 1
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && p < len(h); i++ {
			b := h[p]
			p++
			v |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	// The compressed and uncompressed sizes, each there when its flag is.
	for _, bit := range []byte{0x40, 0x80} {
		if flags&bit == 0 {
			continue
		}
		if _, ok := varint(); !ok {
			return 0, errors.New("xz: bad size in block header")
		}
	}
	id, ok1 := varint()
	size, ok2 := varint()
	if !ok1 || !ok2 || size != 1 || p >= len(h) {
		return 0, errors.New("xz: bad filter flags")
	}
	if id != 0x21 {
		return 0, vfs.Unsupportedf("squashfs xz filter %#x", id)
	}
	b := h[p]
	if b > 40 {
		return 0, fmt.Errorf("xz: dictionary size code %d", b)
	}
	dict := uint64(2|b&1) << (b/2 + 11)
	if b == 40 {
		dict = 1<<32 - 1
	}
	if dict > maxDict {
		return 0, fmt.Errorf("xz: a dictionary of %d bytes, but no block needs more than %d", dict, maxDict)
	}
	return dict, nil
}
