package dissect

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// gptDamages break a GPT disk as a failing disk or a careless tool would,
// each on a copy of the disk's bytes (sector is its sector size).
var gptDamages = map[string]func(b []byte, sector int){
	"primary header zeroed": func(b []byte, s int) { clear(b[s : 2*s]) },
	"primary header checksum": func(b []byte, s int) {
		b[s+56] ^= 0xff // a byte of the disk GUID
	},
	"primary entries": func(b []byte, s int) {
		b[int(binary.LittleEndian.Uint64(b[s+72:]))*s] ^= 0xff
	},
	"primary header claims another sector": func(b []byte, s int) {
		binary.LittleEndian.PutUint64(b[s+24:], 5)
		fixHeaderCRC(b[s : 2*s])
	},
	"backup header zeroed": func(b []byte, s int) { clear(b[len(b)-s:]) },
	"both headers zeroed": func(b []byte, s int) {
		clear(b[s : 2*s])
		clear(b[len(b)-s:])
	},
	"protective MBR zeroed":  func(b []byte, s int) { clear(b[:512]) },
	"protective MBR as 0x83": func(b []byte, s int) { b[446+4] = 0x83 },
	"protective MBR zeroed, primary header zeroed": func(b []byte, s int) {
		clear(b[:512])
		clear(b[s : 2*s])
	},
	"partition past the usable range, both headers": func(b []byte, s int) {
		for _, hdr := range [][]byte{b[s : 2*s], b[len(b)-s:]} {
			entries := int(binary.LittleEndian.Uint64(hdr[72:])) * s
			binary.LittleEndian.PutUint64(b[entries+40:], binary.LittleEndian.Uint64(hdr[48:])+1)
			binary.LittleEndian.PutUint32(hdr[88:], crc32.ChecksumIEEE(b[entries:entries+128*128]))
			fixHeaderCRC(hdr)
		}
	},
}

// fixHeaderCRC recomputes a GPT header's checksum.
func fixHeaderCRC(hdr []byte) {
	n := binary.LittleEndian.Uint32(hdr[12:])
	binary.LittleEndian.PutUint32(hdr[16:], 0)
	binary.LittleEndian.PutUint32(hdr[16:], crc32.ChecksumIEEE(hdr[:n]))
}

// A damaged GPT is read, or refused, as systemd-dissect of 252 and of 257
// reads or refuses it: disks of 512- and of 4096-byte sectors, each with
// every damage of gptDamages. systemd (libblkid) falls back to the backup
// header when the primary one or its entries are damaged, needs the
// protective MBR, and finds the sector size of a file from the primary
// header (from 253 on; 252 reads 512-byte sectors only).
func TestDamagedGPTAgreesWithSystemdDissect(t *testing.T) {
	oracles := systemdDissects(t)
	disks := map[string]string{"512": ""}
	disks["512"], _ = repartImage(t, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE:/\n",
	})
	disks["4096"] = gpt4096Image(t)
	for _, sector := range []string{"512", "4096"} {
		orig, err := os.ReadFile(disks[sector])
		if err != nil {
			t.Fatal(err)
		}
		s := 512
		if sector == "4096" {
			s = 4096
		}
		for damage, apply := range gptDamages {
			t.Run(sector+"/"+damage, func(t *testing.T) {
				b := append([]byte(nil), orig...)
				apply(b, s)
				img := filepath.Join(t.TempDir(), "damaged.raw")
				if err := os.WriteFile(img, b, 0o644); err != nil {
					t.Fatal(err)
				}
				for _, sd := range oracles {
					agreeWithSystemdDissect(t, sd, img)
				}
			})
		}
	}
}
