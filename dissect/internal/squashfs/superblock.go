package squashfs

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Magic is the first four bytes of a SquashFS image.
const Magic = "hsqs"

const superblockSize = 96

// Superblock flags that change how the image is read.
const (
	flagCompressorOptions = 0x0400
)

// noTable marks an absent optional table (xattr ids, exports).
const noTable = ^uint64(0)

// Compressor identifies the compression of metadata and data blocks.
type Compressor uint16

// The compressors of SquashFS 4.0.
const (
	Gzip Compressor = 1
	LZMA Compressor = 2
	LZO  Compressor = 3
	XZ   Compressor = 4
	LZ4  Compressor = 5
	Zstd Compressor = 6
)

func (c Compressor) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case LZMA:
		return "lzma"
	case LZO:
		return "lzo"
	case XZ:
		return "xz"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("compressor %d", uint16(c))
}

// Superblock is the part of the on-disk superblock this reader uses.
type Superblock struct {
	Inodes             uint32
	ModTime            uint32
	BlockSize          uint32
	Fragments          uint32
	Compressor         Compressor
	Flags              uint16
	RootInode          uint64 // inode reference: metadata block << 16 | offset
	BytesUsed          uint64
	XattrIDTableStart  uint64 // noTable without extended attributes
	InodeTableStart    uint64
	DirTableStart      uint64
	FragmentTableStart uint64
}

func corrupt(off int64, format string, args ...any) error {
	return vfs.Corruptf("squashfs", off, format, args...)
}

// readSuperblock reads and checks the superblock against the image size.
func readSuperblock(r io.ReaderAt, size int64) (Superblock, error) {
	var b [superblockSize]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return Superblock{}, corrupt(0, "superblock: %v", err)
	}
	if string(b[0:4]) != Magic {
		return Superblock{}, corrupt(0, "bad magic %q", b[0:4])
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
	le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
	le64 := func(o int) uint64 { return binary.LittleEndian.Uint64(b[o:]) }
	if major, minor := le16(28), le16(30); major != 4 || minor != 0 {
		return Superblock{}, vfs.Unsupportedf("squashfs version %d.%d (only 4.0)", major, minor)
	}
	sb := Superblock{
		Inodes:             le32(4),
		ModTime:            le32(8),
		BlockSize:          le32(12),
		Fragments:          le32(16),
		Compressor:         Compressor(le16(20)),
		Flags:              le16(24),
		RootInode:          le64(32),
		BytesUsed:          le64(40),
		XattrIDTableStart:  le64(56),
		InodeTableStart:    le64(64),
		DirTableStart:      le64(72),
		FragmentTableStart: le64(80),
	}
	blockLog := le16(22)
	if sb.BlockSize < 4096 || sb.BlockSize > 1<<20 || sb.BlockSize&(sb.BlockSize-1) != 0 || uint32(1)<<blockLog != sb.BlockSize {
		return Superblock{}, corrupt(12, "block size %d (log %d) is not a power of two from 4 KiB to 1 MiB", sb.BlockSize, blockLog)
	}
	if sb.Compressor < Gzip || sb.Compressor > Zstd {
		return Superblock{}, vfs.Unsupportedf("squashfs %v", sb.Compressor)
	}
	if sb.BytesUsed > uint64(size) {
		return Superblock{}, corrupt(40, "%d bytes used but the image has %d", sb.BytesUsed, size)
	}
	if sb.InodeTableStart >= sb.BytesUsed || sb.DirTableStart >= sb.BytesUsed || sb.InodeTableStart > sb.DirTableStart {
		return Superblock{}, corrupt(64, "inode table at %d and directory table at %d outside the %d bytes used",
			sb.InodeTableStart, sb.DirTableStart, sb.BytesUsed)
	}
	return sb, nil
}
