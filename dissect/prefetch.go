package dissect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"

	"github.com/portable-generator/portable-generator/internal/regfile"
	"golang.org/x/sys/unix"
)

// Prefetch asks the kernel to start reading the parts of the raw image at
// path that opening it and reading its os-release and units will need
// first, and returns without waiting for them: at boot the page cache is
// cold, and a caller that prefetches the next images while it reads this
// one keeps more reads in flight than it has CPUs, so the disk's latency
// overlaps the decoding.
//
// What is asked for depends on the format, found in the image's first
// 4.5 KiB (read here, the one read Prefetch waits for): the head of the
// image (64 KiB; of squashfs only those 4.5 KiB); for squashfs the tables
// at its end (inodes, directories, fragment and id tables, where every
// path lookup goes); for ext4 the first inode tables; for erofs the blocks
// around the root inode. A GPT or MBR disk gets its head only. Directories
// get nothing.
//
// It is a hint: it changes no state a later Open sees, reads at most
// prefetchMax bytes ahead per region, and its errors say only that nothing
// was prefetched. The squashfs region starts at the inode table: on an
// image whose tables pass prefetchMax, the directory, fragment and id
// tables after it are not asked for (TestPrefetchRegions checks the
// coverage on the benchmark's small images only).
func Prefetch(path string) error {
	f, err := PrefetchFile(path)
	if f != nil {
		f.Close()
	}
	return err
}

// File is a raw image file that PrefetchFile opened, and asked the kernel
// to read ahead in, for OpenOptions to read (Options.File) without opening
// it again.
type File struct {
	path string
	f    *os.File
	info fs.FileInfo
	head []byte // the image's first headSize bytes, as read; nil if not read
}

// Close closes a file that was not handed to OpenOptions.
func (f *File) Close() error { return f.f.Close() }

// PrefetchFile does what Prefetch does, and returns the image file it
// opened (nil for a directory or anything else but a regular file), with
// the head it read: read it with Options.File, or close it. Warm, when
// there is nothing to read ahead, that spares OpenOptions opening the path
// again (stat, open, fstat, fadvise) and reading the head again.
func PrefetchFile(path string) (*File, error) {
	// A FIFO put where the image was must not stall the hint.
	f, fi, err := regfile.OpenInfo(path)
	if errors.Is(err, regfile.ErrNotRegular) {
		return nil, nil // a directory image, or no image: nothing to prefetch
	}
	if err != nil {
		return nil, err
	}
	// The head read here is all that is wanted of it: no readahead past
	// it (see OpenOptions). The hints below are read whatever the mode.
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM)
	regions, head := prefetchRegions(f, fi.Size())
	for _, r := range regions {
		// Errors ignored: a file system without readahead loses the hint only.
		unix.Fadvise(int(f.Fd()), r.off, r.len, unix.FADV_WILLNEED)
	}
	return &File{path: path, f: f, info: fi, head: head}, nil
}

// prefetchHead is read ahead of every image: it holds the superblocks,
// and ext4's group descriptors and erofs's first inodes lie just after.
const prefetchHead = 64 << 10

// prefetchMax bounds what one region asks for: an image's metadata
// tables can be large, and the lookups need a small part of them.
const prefetchMax = 4 << 20

type region struct{ off, len int64 }

// prefetchRegions are the stretches of a raw image worth reading ahead,
// found in its head, which it returns (nil when it cannot be read).
func prefetchRegions(f *os.File, size int64) ([]region, []byte) {
	clamp := func(off, end int64) region {
		off, end = max(off, 0), min(end, size, off+prefetchMax)
		return region{off, max(end-off, 0)}
	}
	// The whole head, zero past the end of a shorter file: the fields read
	// below are at fixed offsets, which a file that is only a magic number
	// does not reach (zeros make no region worth asking for).
	head := make([]byte, headSize)
	if _, err := f.ReadAt(head[:min(headSize, size)], 0); err != nil {
		return []region{clamp(0, prefetchHead)}, nil
	}
	kind := probeFS(bytes.NewReader(head), size)
	// A squashfs image needs nothing past its superblock, read just now:
	// what follows is the first files' data. Reading 64 KiB of it for
	// nothing was a fifth of what a cold run read from the disk.
	headLen := int64(prefetchHead)
	if kind == "squashfs" {
		headLen = headSize
	}
	regions := []region{clamp(0, headLen)}
	le16 := func(off int) int64 { return int64(binary.LittleEndian.Uint16(head[off:])) }
	le32 := func(off int) int64 { return int64(binary.LittleEndian.Uint32(head[off:])) }
	le64 := func(off int) int64 { return int64(binary.LittleEndian.Uint64(head[off:])) }
	switch kind {
	case "squashfs":
		// The tables follow the data: from the inode table to the end.
		inodeTable, bytesUsed := le64(64), le64(40)
		if inodeTable > 0 && inodeTable < bytesUsed {
			regions = append(regions, clamp(inodeTable, bytesUsed))
		}
	case "ext4":
		// Group 0's inode table, as far as a flex group's tables run on
		// (mkfs lays them out back to back): the root directory and the
		// first-made paths live there.
		const sb = 1024
		blockSize := int64(1024) << le32(sb+24)
		inodesPerGroup, inodeSize := le32(sb+40), le16(sb+88)
		if le32(sb+76) == 0 { // revision 0: fixed inode size
			inodeSize = 128
		}
		gdt := (le32(sb+20) + 1) * blockSize
		if blockSize < 1024 || blockSize > 65536 || gdt+16 > size {
			break
		}
		desc := make([]byte, 16)
		if _, err := f.ReadAt(desc, gdt); err != nil {
			break
		}
		table := int64(binary.LittleEndian.Uint32(desc[8:])) * blockSize
		flex := int64(1)
		if le32(sb+96)&0x200 != 0 { // flex_bg: the tables of 2^N groups together
			flex = int64(1) << min(head[sb+372], 4)
		}
		if perGroup := le32(sb + 32); perGroup > 0 {
			flex = min(flex, (le32(sb+4)+perGroup-1)/perGroup) // not more groups than there are
		}
		regions = append(regions, clamp(gdt, gdt+blockSize), clamp(table, table+inodesPerGroup*inodeSize*flex))
	case "erofs":
		// The root inode, and the blocks around it where mkfs.erofs puts
		// the first directories' inodes.
		const sb = 1024
		blockBits := head[sb+12]
		if blockBits < 9 || blockBits > 16 {
			break
		}
		root := le32(sb+40)<<blockBits + le16(sb+14)*32
		regions = append(regions, clamp(root, root+prefetchHead))
	}
	return regions, head[:min(headSize, size)]
}
