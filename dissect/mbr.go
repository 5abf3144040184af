package dissect

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// openMBR builds an image from a DOS partition table: exactly one bootable
// Linux (0x83) partition is the root, as systemd requires.
func openMBR(img *Image, r io.ReaderAt, size int64, b *vfs.Budget) error {
	mbr := make([]byte, 512)
	if _, err := r.ReadAt(mbr, 0); err != nil {
		return vfs.Corruptf("mbr", 0, "%v", err)
	}
	var found []Partition
	disk := binary.LittleEndian.Uint32(mbr[440:])
	for i := 0; i < 4; i++ {
		e := mbr[446+16*i : 446+16*(i+1)]
		if e[4] != 0x83 || e[0] != 0x80 {
			continue
		}
		start := int64(binary.LittleEndian.Uint32(e[8:])) * 512
		n := int64(binary.LittleEndian.Uint32(e[12:])) * 512
		if start == 0 || n == 0 || start+n > size {
			return vfs.Corruptf("mbr partition entry", int64(446+16*i), "partition %d spans bytes %d-%d of a %d-byte image", i+1, start, start+n, size)
		}
		found = append(found, Partition{Number: i + 1, Designator: "root", MBRType: 0x83, Offset: start, Size: n,
			UUID: fmt.Sprintf("%08x-%02x", disk, i+1)})
	}
	switch len(found) {
	case 0:
		return vfs.Corruptf("mbr", 446, "no bootable Linux (0x83) partition")
	case 1:
	default:
		return vfs.Corruptf("mbr", 446, "%d bootable Linux partitions, need exactly one", len(found))
	}
	p := &found[0]
	fsys, fstype, err := openFS(io.NewSectionReader(r, p.Offset, p.Size), p.Size, b)
	p.FSType, p.ReadOnly = fstype, fstype == "squashfs" || fstype == "erofs"
	if err != nil {
		return fmt.Errorf("partition %d: %w", p.Number, err)
	}
	img.PartitionTable, img.SectorSize, img.DiskUUID = "dos", 512, fmt.Sprintf("%08x", disk)
	img.Partitions = found
	img.tree = vfs.NewTree(fsys, nil, b)
	return nil
}

func hasMBR(r io.ReaderAt) bool {
	buf := make([]byte, 2)
	_, err := r.ReadAt(buf, 510)
	return err == nil && buf[0] == 0x55 && buf[1] == 0xAA
}
