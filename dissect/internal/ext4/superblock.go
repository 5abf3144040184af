package ext4

import (
	"encoding/binary"
	"io"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// superblockOffset is where the superblock starts, whatever the block size.
const superblockOffset = 1024

// Magic is the superblock's s_magic.
const Magic = 0xEF53

// Incompatible features, which change how the image must be read.
const (
	incompatCompression = 0x1
	incompatFiletype    = 0x2
	incompatJournalDev  = 0x8
	incompatMetaBG      = 0x10
	incompatExtents     = 0x40
	incompat64Bit       = 0x80
	incompatMMP         = 0x100
	incompatFlexBG      = 0x200
	incompatEAInode     = 0x400
	incompatDirData     = 0x1000
	incompatCsumSeed    = 0x2000
	incompatLargeDir    = 0x4000
	incompatInlineData  = 0x8000
	incompatEncrypt     = 0x10000
	incompatCasefold    = 0x20000
	incompatRecover     = 0x4
)

// understood are the incompatible features this reader handles; any other
// is reported as unsupported, naming it.
const understood = incompatFiletype | incompatExtents | incompat64Bit | incompatMMP |
	incompatFlexBG | incompatCsumSeed | incompatLargeDir | incompatInlineData |
	incompatRecover | incompatEncrypt | incompatCasefold | incompatMetaBG

var incompatNames = map[uint32]string{
	incompatCompression: "compression",
	incompatJournalDev:  "external journal device",
	incompatEAInode:     "extended attributes in inodes (ea_inode)",
	incompatDirData:     "dirdata",
}

// Superblock is the part of the on-disk superblock this reader uses.
type Superblock struct {
	InodesCount     uint32
	BlocksCount     uint64
	FirstDataBlock  uint32
	BlockSize       uint32
	BlocksPerGroup  uint32
	InodesPerGroup  uint32
	InodeSize       uint16
	DescSize        uint16
	FeatureCompat   uint32
	FeatureIncompat uint32
	FeatureROCompat uint32
	// ClusterSize is the allocation unit: the block size, or with
	// bigalloc a power-of-two multiple of it.
	ClusterSize uint32
	FirstMetaBG uint32
	// HashSeed, DefHashVersion and Flags decide htree directory hashes.
	HashSeed       [4]uint32
	DefHashVersion uint8
	Flags          uint32
	groups         uint64
}

// Read-only compatible features this reader must know of: sparse_super
// decides which groups hold superblock copies, bigalloc allocates in
// clusters of blocks.
const (
	roCompatSparseSuper = 0x1
	roCompatBigalloc    = 0x200
)

// compatDirIndex says htree indexes are maintained; without it the kernel
// ignores a directory's index flag, and so do we.
const compatDirIndex = 0x20

// flagUnsignedHash is the superblock flag saying name bytes were hashed as
// unsigned chars.
const flagUnsignedHash = 0x2

func corrupt(off int64, format string, args ...any) error {
	return vfs.Corruptf("ext4", off, format, args...)
}

func readSuperblock(r io.ReaderAt, size int64) (Superblock, error) {
	var b [1024]byte
	if _, err := r.ReadAt(b[:], superblockOffset); err != nil {
		return Superblock{}, corrupt(superblockOffset, "superblock: %v", err)
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
	le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
	if le16(0x38) != Magic {
		return Superblock{}, corrupt(superblockOffset+0x38, "bad magic %#x", le16(0x38))
	}
	sb := Superblock{
		InodesCount:     le32(0x0),
		BlocksCount:     uint64(le32(0x4)),
		FirstDataBlock:  le32(0x14),
		BlocksPerGroup:  le32(0x20),
		InodesPerGroup:  le32(0x28),
		InodeSize:       128,
		DescSize:        32,
		FeatureCompat:   le32(0x5C),
		FeatureIncompat: le32(0x60),
		FeatureROCompat: le32(0x64),
		FirstMetaBG:     le32(0x104),
		HashSeed:        [4]uint32{le32(0xEC), le32(0xF0), le32(0xF4), le32(0xF8)},
		DefHashVersion:  b[0xFC],
		Flags:           le32(0x160),
	}
	logBS := le32(0x18)
	if logBS > 6 {
		return Superblock{}, corrupt(superblockOffset+0x18, "block size 1024<<%d", logBS)
	}
	sb.BlockSize = 1024 << logBS
	sb.ClusterSize = sb.BlockSize
	// Groups are counted in clusters: with bigalloc, clustersPerGroup is
	// what a group's bitmap block bounds, and blocks per group follow.
	clustersPerGroup := sb.BlocksPerGroup
	if sb.FeatureROCompat&roCompatBigalloc != 0 {
		logCS := le32(0x1C)
		if logCS < logBS || logCS > 20 {
			return Superblock{}, corrupt(superblockOffset+0x1C, "clusters of 1024<<%d bytes with blocks of 1024<<%d", logCS, logBS)
		}
		sb.ClusterSize = 1024 << logCS
		clustersPerGroup = le32(0x24)
		if uint64(clustersPerGroup)*uint64(sb.ClusterSize/sb.BlockSize) != uint64(sb.BlocksPerGroup) {
			return Superblock{}, corrupt(superblockOffset+0x24, "%d clusters of %d bytes per group, but %d blocks", clustersPerGroup, sb.ClusterSize, sb.BlocksPerGroup)
		}
	}
	if le32(0x4C) >= 1 { // dynamic revision: variable inode size, features
		sb.InodeSize = le16(0x58)
	}
	for bit := uint32(1); bit != 0; bit <<= 1 {
		if sb.FeatureIncompat&bit != 0 && understood&bit == 0 {
			name := incompatNames[bit]
			if name == "" {
				return Superblock{}, vfs.Unsupportedf("ext4 incompatible feature %#x", bit)
			}
			return Superblock{}, vfs.Unsupportedf("ext4 feature %s", name)
		}
	}
	if sb.FeatureIncompat&incompat64Bit != 0 {
		sb.BlocksCount |= uint64(le32(0x150)) << 32
		sb.DescSize = le16(0xFE)
		if sb.DescSize < 64 || sb.DescSize > 1024 || sb.DescSize&(sb.DescSize-1) != 0 {
			return Superblock{}, corrupt(superblockOffset+0xFE, "group descriptor size %d", sb.DescSize)
		}
	}
	switch {
	case sb.InodeSize < 128 || uint32(sb.InodeSize) > sb.BlockSize || sb.InodeSize&(sb.InodeSize-1) != 0:
		return Superblock{}, corrupt(superblockOffset+0x58, "inode size %d", sb.InodeSize)
	case sb.BlocksPerGroup == 0 || clustersPerGroup > 8*sb.BlockSize:
		return Superblock{}, corrupt(superblockOffset+0x20, "%d blocks per group", sb.BlocksPerGroup)
	case sb.InodesPerGroup == 0 || sb.InodesPerGroup > 8*sb.BlockSize:
		return Superblock{}, corrupt(superblockOffset+0x28, "%d inodes per group", sb.InodesPerGroup)
	case uint64(sb.FirstDataBlock) >= sb.BlocksCount:
		return Superblock{}, corrupt(superblockOffset+0x14, "first data block %d of %d", sb.FirstDataBlock, sb.BlocksCount)
	case sb.BlocksCount > uint64(size)/uint64(sb.BlockSize):
		return Superblock{}, corrupt(superblockOffset+0x4, "%d blocks of %d bytes in a %d-byte image", sb.BlocksCount, sb.BlockSize, size)
	}
	sb.groups = (sb.BlocksCount - uint64(sb.FirstDataBlock) + uint64(sb.BlocksPerGroup) - 1) / uint64(sb.BlocksPerGroup)
	if uint64(sb.InodesCount) > sb.groups*uint64(sb.InodesPerGroup) {
		return Superblock{}, corrupt(superblockOffset, "%d inodes in %d groups of %d", sb.InodesCount, sb.groups, sb.InodesPerGroup)
	}
	return sb, nil
}
