package erofs

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Magic is the little-endian word at byte 1024 of every erofs image.
const Magic = 0xE0F5E1E2

const (
	superblockOffset = 1024
	superblockSize   = 128 // without extension slots
	extSlotSize      = 16
)

// Compatible feature bits: a reader may ignore them.
const compatSBChecksum = 0x1

// Incompatible feature bits. Some share a value: the bit means one thing for
// compressed files and another for chunk-based ones, and an image may use
// either meaning.
const (
	incompatZeroPadding   = 0x01
	incompatBigPcluster   = 0x02 // also: compression configs follow the superblock
	incompatChunkedFile   = 0x04
	incompatDeviceTable   = 0x08 // also: a second compression algorithm (HEAD2)
	incompatZTailpacking  = 0x10
	incompatFragments     = 0x20 // also: deduplicated pclusters
	incompatXattrPrefixes = 0x40
	incompat48Bit         = 0x80
	incompatMetabox       = 0x100

	// incompatKnown is every bit this reader understands. Long xattr
	// prefixes change only the xattr area, which is skipped whole.
	incompatKnown = incompatZeroPadding | incompatBigPcluster | incompatChunkedFile |
		incompatDeviceTable | incompatZTailpacking | incompatFragments | incompatXattrPrefixes
)

// Compression algorithms, as numbered in the map header and the
// superblock's algorithm bitmap.
const (
	algLZ4 = iota
	algLZMA
	algDeflate
	algZstd
	algCount
)

var algNames = [algCount]string{"lz4", "lzma", "deflate", "zstd"}

func algName(a uint8) string {
	if int(a) < len(algNames) {
		return algNames[a]
	}
	return fmt.Sprintf("algorithm %d", a)
}

// Superblock is the part of the on-disk superblock this reader uses.
type Superblock struct {
	BlockSize       uint32
	RootNid         uint64
	Inodes          uint64
	Blocks          uint64
	MetaBlkAddr     uint32
	XattrBlkAddr    uint32 // where shared xattr entries live
	FeatureCompat   uint32
	FeatureIncompat uint32
	// Algorithms is a bitmap of the compression algorithms the image
	// uses (bit 0 lz4, 1 lzma, 2 deflate, 3 zstd).
	Algorithms uint16
	PackedNid  uint64 // the inode holding fragments; 0 if none
	Epoch      int64  // base of compact inodes' mtimes
	FixedNsec  uint32
	UUID       [16]byte
	VolumeName string

	blockBits     uint
	lzmaDictSize  uint32 // from the lzma compression config
	zeroPadding   bool
	chunkedFiles  bool
	bigPcluster   bool
	ztailpacking  bool
	fragments     bool
	configsLength int // bytes of compression configs after the superblock
}

func corrupt(off int64, format string, args ...any) error {
	return vfs.Corruptf("erofs", off, format, args...)
}

// readSuperblock reads and checks the superblock, its checksum, and the
// compression configurations that follow it.
func readSuperblock(r io.ReaderAt, size int64) (Superblock, error) {
	if size < superblockOffset+superblockSize {
		return Superblock{}, corrupt(0, "image of %d bytes is too small for a superblock", size)
	}
	var b [superblockSize]byte
	if err := readFull(r, b[:], superblockOffset, "superblock"); err != nil {
		return Superblock{}, err
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
	le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
	le64 := func(o int) uint64 { return binary.LittleEndian.Uint64(b[o:]) }
	if le32(0) != Magic {
		return Superblock{}, corrupt(superblockOffset, "bad magic %#x", le32(0))
	}
	sb := Superblock{
		FeatureCompat:   le32(8),
		RootNid:         uint64(le16(14)),
		Inodes:          le64(16),
		Epoch:           int64(le64(24)),
		FixedNsec:       le32(32),
		Blocks:          uint64(le32(36)),
		MetaBlkAddr:     le32(40),
		XattrBlkAddr:    le32(44),
		FeatureIncompat: le32(80),
		PackedNid:       le64(96),
	}
	copy(sb.UUID[:], b[48:64])
	sb.VolumeName = cString(b[64:80])
	blkszbits := uint(b[12])
	// 512 bytes to 64 KiB are the block sizes erofs-utils can write.
	if blkszbits < 9 || blkszbits > 16 {
		return Superblock{}, corrupt(superblockOffset+12, "block size 2^%d outside 512 B to 64 KiB", blkszbits)
	}
	sb.blockBits = blkszbits
	sb.BlockSize = 1 << blkszbits
	if err := checkIncompat(sb.FeatureIncompat); err != nil {
		return Superblock{}, err
	}
	sb.zeroPadding = sb.FeatureIncompat&incompatZeroPadding != 0
	sb.bigPcluster = sb.FeatureIncompat&incompatBigPcluster != 0
	sb.chunkedFiles = sb.FeatureIncompat&incompatChunkedFile != 0
	sb.ztailpacking = sb.FeatureIncompat&incompatZTailpacking != 0
	sb.fragments = sb.FeatureIncompat&incompatFragments != 0
	if b[90] != 0 {
		return Superblock{}, vfs.Unsupportedf("erofs directory blocks of 2^%d file system blocks", b[90])
	}
	// Bit 0x08 means a device table on images with chunk-based files; the
	// table matters only when there are extra devices.
	if extra := le16(86); extra != 0 && sb.FeatureIncompat&incompatDeviceTable != 0 {
		return Superblock{}, vfs.Unsupportedf("erofs with %d extra devices", extra)
	}
	if sb.Blocks == 0 || sb.Blocks > uint64(size)>>blkszbits {
		return Superblock{}, corrupt(superblockOffset+36, "%d blocks of %d bytes, but the image has %d bytes", sb.Blocks, sb.BlockSize, size)
	}
	if uint64(sb.MetaBlkAddr) >= sb.Blocks {
		return Superblock{}, corrupt(superblockOffset+40, "metadata at block %d of %d", sb.MetaBlkAddr, sb.Blocks)
	}
	sbSize := superblockSize + int(b[13])*extSlotSize
	if superblockOffset+int64(sbSize) > size {
		return Superblock{}, corrupt(superblockOffset+13, "superblock of %d bytes beyond the image", sbSize)
	}
	if sb.FeatureCompat&compatSBChecksum != 0 {
		if err := checkChecksum(r, &sb, le32(4)); err != nil {
			return Superblock{}, err
		}
	}
	if err := readCompressionConfigs(r, &sb, le16(84), int64(superblockOffset+sbSize)); err != nil {
		return Superblock{}, err
	}
	return sb, nil
}

// checkIncompat refuses feature bits this reader does not know, naming them.
func checkIncompat(features uint32) error {
	switch {
	case features&incompat48Bit != 0:
		return vfs.Unsupportedf("erofs 48-bit layout (incompatible feature %#x)", incompat48Bit)
	case features&incompatMetabox != 0:
		return vfs.Unsupportedf("erofs metabox (incompatible feature %#x)", incompatMetabox)
	case features&^incompatKnown != 0:
		bit := uint32(1) << bits.TrailingZeros32(features&^incompatKnown)
		return vfs.Unsupportedf("erofs incompatible feature %#x", bit)
	}
	return nil
}

// checkChecksum verifies the crc32c that covers the superblock's block from
// byte 1024 on, computed with the checksum field zeroed.
func checkChecksum(r io.ReaderAt, sb *Superblock, want uint32) error {
	n := int64(sb.BlockSize)
	if n > superblockOffset {
		n -= superblockOffset
	}
	buf := make([]byte, n)
	if err := readFull(r, buf, superblockOffset, "superblock block"); err != nil {
		return err
	}
	clear(buf[4:8])
	// The kernel's crc32c(~0, ...) does not invert its result; Go's does.
	if got := ^crc32.Update(0, castagnoli, buf); got != want {
		return corrupt(superblockOffset+4, "superblock checksum %#08x, want %#08x", got, want)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxConfigLength bounds one compression configuration record; the largest
// the format defines is 14 bytes.
const maxConfigLength = 256

// readCompressionConfigs learns which algorithms the image uses and reads
// their configuration records, each a 2-byte length and a body, 4-aligned,
// right after the superblock.
func readCompressionConfigs(r io.ReaderAt, sb *Superblock, u1 uint16, off int64) error {
	if sb.FeatureIncompat&incompatBigPcluster == 0 {
		// Without configs the field is lz4's maximum distance, and lz4
		// is the only algorithm.
		sb.Algorithms = 1 << algLZ4
		return nil
	}
	sb.Algorithms = u1
	if extra := u1 &^ (1<<algCount - 1); extra != 0 {
		return vfs.Unsupportedf("erofs compression algorithm %d", bits.TrailingZeros16(extra))
	}
	start := off
	for alg := uint8(0); alg < algCount; alg++ {
		if u1&(1<<alg) == 0 {
			continue
		}
		off = (off + 3) &^ 3
		var hdr [2]byte
		if err := readFull(r, hdr[:], off, "compression config"); err != nil {
			return err
		}
		n := int(binary.LittleEndian.Uint16(hdr[:]))
		if n == 0 || n > maxConfigLength {
			return corrupt(off, "%s compression config of %d bytes", algName(alg), n)
		}
		body := make([]byte, n)
		if err := readFull(r, body, off+2, "compression config"); err != nil {
			return err
		}
		if err := sb.applyConfig(alg, body); err != nil {
			return err
		}
		off += 2 + int64(n)
	}
	sb.configsLength = int(off - start)
	return nil
}

// applyConfig takes what reading needs from one algorithm's configuration
// and refuses stream formats other than the one each algorithm has today.
func (sb *Superblock) applyConfig(alg uint8, body []byte) error {
	switch {
	case alg == algLZMA && len(body) >= 6:
		sb.lzmaDictSize = binary.LittleEndian.Uint32(body)
		if format := binary.LittleEndian.Uint16(body[4:]); format != 0 {
			return vfs.Unsupportedf("erofs lzma stream format %d", format)
		}
	case alg == algDeflate && len(body) >= 1 && body[0] > 15:
		return vfs.Unsupportedf("erofs deflate window of 2^%d bytes", body[0])
	case alg == algZstd && len(body) >= 1 && body[0] != 0:
		return vfs.Unsupportedf("erofs zstd stream format %d", body[0])
	}
	return nil
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
