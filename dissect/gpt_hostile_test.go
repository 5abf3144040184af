package dissect

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"testing"
)

// hostileGPT takes a real repart GPT and rewrites both its headers (the
// primary and the backup, which systemd falls back to) and their entries
// with mutate, then fixes the checksums (unless the case is about
// checksums), so each case reaches the check it is aimed at.
func hostileGPT(t *testing.T, mutate func(hdr, table []byte) (fixCRC bool)) error {
	t.Helper()
	img, _ := repartImage(t, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE:/\n",
		"20-var.conf":  "[Partition]\nType=var\nSizeMinBytes=1M\n",
	})
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, lba := range []int{1, len(b)/512 - 1} {
		hdr := b[lba*512 : (lba+1)*512]
		entriesLBA := binary.LittleEndian.Uint64(hdr[72:])
		table := b[entriesLBA*512 : entriesLBA*512+128*128]
		if mutate(hdr, table) {
			count := binary.LittleEndian.Uint32(hdr[80:])
			size := binary.LittleEndian.Uint32(hdr[84:])
			if n := uint64(count) * uint64(size); n <= uint64(len(b))-entriesLBA*512 {
				binary.LittleEndian.PutUint32(hdr[88:], crc32.ChecksumIEEE(b[entriesLBA*512:entriesLBA*512+n]))
			}
			binary.LittleEndian.PutUint32(hdr[16:], 0)
			binary.LittleEndian.PutUint32(hdr[16:], crc32.ChecksumIEEE(hdr[:binary.LittleEndian.Uint32(hdr[12:])]))
		}
	}
	_, err = New(bytesReaderAt(b), int64(len(b)))
	return err
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(b)) {
		return 0, errors.New("out of range")
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, errors.New("short read")
	}
	return n, nil
}

func TestHostileGPTs(t *testing.T) {
	for name, mutate := range map[string]func(hdr, table []byte) bool{
		"huge entry count": func(hdr, _ []byte) bool { binary.LittleEndian.PutUint32(hdr[80:], 1<<30); return true },
		"entry size 0":     func(hdr, _ []byte) bool { binary.LittleEndian.PutUint32(hdr[84:], 0); return true },
		"huge entry size":  func(hdr, _ []byte) bool { binary.LittleEndian.PutUint32(hdr[84:], 1<<31); return true },
		"header size past the sector": func(hdr, _ []byte) bool {
			binary.LittleEndian.PutUint32(hdr[12:], 4096)
			return false
		},
		"header checksum":  func(hdr, _ []byte) bool { hdr[40] ^= 1; return false },
		"entries checksum": func(_, table []byte) bool { table[60] ^= 1; return false },
		"partition past the end": func(_, table []byte) bool {
			binary.LittleEndian.PutUint64(table[40:], 1<<40)
			return true
		},
		"overlapping partitions": func(_, table []byte) bool {
			// The second partition starts inside the first.
			binary.LittleEndian.PutUint64(table[128+32:], binary.LittleEndian.Uint64(table[32:])+1)
			return true
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := hostileGPT(t, mutate)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want a corrupt-image FormatError", err)
			}
			t.Log(err)
			if fe.Offset < 0 {
				t.Errorf("no byte offset in %v", err)
			}
		})
	}
}
