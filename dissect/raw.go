package dissect

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"

	"github.com/portable-generator/portable-generator/dissect/internal/erofs"
	"github.com/portable-generator/portable-generator/dissect/internal/ext4"
	"github.com/portable-generator/portable-generator/dissect/internal/squashfs"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"golang.org/x/sys/unix"
)

// newRaw probes r for a GPT (512- to 4096-byte sectors), an MBR, or a
// naked file system, and builds the image. side is the verity data found
// beside the image file, nil if none.
func newRaw(r io.ReaderAt, size int64, path string, side *Verity, o Options, b *vfs.Budget) (*Image, error) {
	cr := newHeadReaderAt(vfs.CountingReaderAt{R: r, B: b}, size)
	if o.File != nil {
		cr.seed(o.File.head, b) // r is o.File's file (OpenOptions)
	}
	img := &Image{Path: path, Kind: KindRaw, Size: size, budget: b, systemdVersion: o.SystemdVersion}
	gpt, gptErr := findGPT(cr, size, o.SystemdVersion)
	if gpt != nil {
		if err := sidecarBesideTable(side); err != nil {
			return nil, err
		}
		if err := openPartitioned(img, cr, gpt, side, o, b); err != nil {
			return nil, err
		}
		return img, nil
	}
	if fstype := probeFS(cr, size); fstype != "" {
		fsys, _, err := openFS(io.NewSectionReader(cr, 0, size), size, b)
		if err != nil {
			return nil, err
		}
		img.Verity = nakedVerity(side)
		img.Partitions = []Partition{{Designator: "root", FSType: fstype, Size: size,
			ReadOnly: fstype == "squashfs" || fstype == "erofs" || img.Verity != nil}}
		img.tree = vfs.NewTree(fsys, nil, b)
		return img, nil
	}
	if gptErr != nil {
		return nil, gptErr
	}
	if hasMBR(cr) {
		if err := sidecarBesideTable(side); err != nil {
			return nil, err
		}
		if err := openMBR(img, cr, size, b); err != nil {
			return nil, err
		}
		return img, nil
	}
	return nil, vfs.Corruptf("image", 0, "no partition table or supported file system recognised (squashfs, erofs, ext4, GPT, MBR)")
}

// openFS opens the file system at the start of r by its magic.
func openFS(r io.ReaderAt, size int64, b *vfs.Budget) (vfs.FS, string, error) {
	fstype := probeFS(r, size)
	switch fstype {
	case "squashfs":
		fsys, err := squashfs.Open(r, size, b)
		return fsys, fstype, err
	case "erofs":
		fsys, err := erofs.Open(r, size, b)
		return fsys, fstype, err
	case "ext4":
		fsys, err := ext4.Open(r, size, b)
		return fsys, fstype, err
	case "":
		return nil, "", vfs.Corruptf("file system", 0, "no file system recognised")
	}
	if fstype == "crypto_LUKS" {
		// As systemd: a portable image is never decrypted.
		return nil, fstype, vfs.Unsupportedf("LUKS-encrypted image (portable images are never decrypted)")
	}
	return nil, fstype, vfs.Unsupportedf("%s file system", fstype)
}

// probeFS recognises a file system by its superblock magic, "" if none.
// Some are recognised only to say they are not supported.
func probeFS(r io.ReaderAt, size int64) string {
	at := func(off int64, n int) []byte {
		if off+int64(n) > size {
			return nil
		}
		buf := make([]byte, n)
		if _, err := r.ReadAt(buf, off); err != nil {
			return nil
		}
		return buf
	}
	le32 := func(b []byte) uint32 {
		if len(b) < 4 {
			return 0
		}
		return binary.LittleEndian.Uint32(b)
	}
	switch {
	case bytes.Equal(at(0, 4), []byte("hsqs")):
		return "squashfs"
	case le32(at(1024, 4)) == 0xE0F5E1E2:
		return "erofs"
	case bytes.Equal(at(1080, 2), []byte{0x53, 0xEF}):
		return "ext4"
	case bytes.Equal(at(65600, 8), []byte("_BHRfS_M")):
		return "btrfs"
	case bytes.Equal(at(0, 4), []byte("XFSB")):
		return "xfs"
	case le32(at(1024, 4)) == 0xF2F52010:
		return "f2fs"
	case bytes.Equal(at(0, 6), []byte("LUKS\xba\xbe")):
		return "crypto_LUKS"
	case bytes.Equal(at(82, 5), []byte("FAT32")) || bytes.Equal(at(54, 3), []byte("FAT")):
		return "vfat"
	}
	return ""
}

func blockDeviceSize(f *os.File) (int64, error) {
	n, err := unix.IoctlGetUint64(int(f.Fd()), unix.BLKGETSIZE64)
	return int64(n), err
}
