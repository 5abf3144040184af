package dissect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// gptPartition is one used entry of a GUID partition table.
type gptPartition struct {
	number       int
	typeGUID     string // lower-case, canonical form
	uuid         string
	label        string
	flags        uint64
	offset, size int64 // bytes
}

// Limits on what a GPT may claim, so a hostile header cannot make us read
// or allocate much: systemd-repart and sfdisk write 128 entries of 128
// bytes.
const (
	maxGPTEntries   = 1024
	maxGPTEntrySize = 4096
)

// gptTable is a disk's GPT as read from one of its two headers.
type gptTable struct {
	sector   int // logical sector size in bytes
	diskUUID string
	parts    []gptPartition
	// backup says the primary header or its entries were damaged and the
	// backup header at the disk's last sector was read instead.
	backup bool
}

// findGPT reads a disk's GPT as systemd does (through libblkid): only
// behind a protective MBR, from the primary header, else from the backup
// header at the last sector, each with its entries checked. It returns
// nil and no error when there is no GPT to speak of, and an error for a
// GPT systemd refuses (both headers damaged, no protective MBR).
func findGPT(r io.ReaderAt, size int64, systemdVersion int) (*gptTable, error) {
	if !hasProtectiveMBR(r) {
		if s := gptSignatureAt(r); s != 0 {
			return nil, vfs.Corruptf("mbr", 446, "a GPT header at byte %d but no protective MBR (a partition of type 0xEE): systemd reads a GPT only behind one", s)
		}
		return nil, nil
	}
	sector, err := gptSectorSize(r, size, systemdVersion)
	if err != nil {
		return nil, err
	}
	if s := gptSignatureAt(r); s > sector {
		if _, err := readGPT(r, size, s, 1); err == nil {
			return nil, vfs.Unsupportedf("GPT with %d-byte sectors for systemd %d, which reads disk image files with 512-byte sectors only (253 reads them)", s, systemdVersion)
		}
	}
	primary, err := readGPT(r, size, sector, 1)
	if err == nil {
		return primary, nil
	}
	last := uint64(size)/uint64(sector) - 1
	backup, errBackup := readGPT(r, size, sector, last)
	if errBackup == nil {
		backup.backup = true
		return backup, nil
	}
	var fe *vfs.FormatError
	if errors.As(err, &fe) {
		return nil, vfs.Corruptf(fe.Where, fe.Offset, "%s; and the backup header at sector %d: %v", fe.Msg, last, errBackup)
	}
	return nil, err
}

// hasProtectiveMBR reports whether sector 0 is an MBR with a partition of
// type 0xEE, without which libblkid does not look for a GPT.
func hasProtectiveMBR(r io.ReaderAt) bool {
	mbr := make([]byte, 512)
	if _, err := r.ReadAt(mbr, 0); err != nil || mbr[510] != 0x55 || mbr[511] != 0xAA {
		return false
	}
	for i := 0; i < 4; i++ {
		if mbr[446+16*i+4] == 0xEE {
			return true
		}
	}
	return false
}

// gptSignatureAt returns the offset of a GPT signature at the second
// sector of any sector size, 0 if none.
func gptSignatureAt(r io.ReaderAt) int {
	for _, s := range []int{512, 1024, 2048, 4096} {
		buf := make([]byte, 8)
		if _, err := r.ReadAt(buf, int64(s)); err == nil && string(buf) == "EFI PART" {
			return s
		}
	}
	return 0
}

// gptSectorSize is the logical sector size systemd gives the loop device
// of an image file, which libblkid then reads the GPT with. From systemd
// 253 on it is the one size (512 to 4096) whose second sector starts a
// header claiming to be there (signature, revision 1.0, a header size of
// 92 to 4096 bytes, its own LBA 1); two such sizes are refused, none means
// 512, so a disk of 4096-byte sectors whose primary header is damaged is
// not read. Before 253 it is always 512.
func gptSectorSize(r io.ReaderAt, size int64, systemdVersion int) (int, error) {
	if systemdVersion > 0 && systemdVersion < 253 {
		return 512, nil
	}
	if size < 2*4096 {
		return 512, nil
	}
	found := 0
	for _, s := range []int{512, 1024, 2048, 4096} {
		hdr := make([]byte, 92)
		if _, err := r.ReadAt(hdr, int64(s)); err != nil {
			continue
		}
		hdrSize := binary.LittleEndian.Uint32(hdr[12:])
		if string(hdr[:8]) != "EFI PART" || binary.LittleEndian.Uint32(hdr[8:]) != 0x00010000 ||
			hdrSize < 92 || hdrSize > 4096 || binary.LittleEndian.Uint64(hdr[24:]) != 1 {
			continue
		}
		if found != 0 {
			return 0, vfs.Corruptf("gpt header", int64(s), "GPT headers for both %d- and %d-byte sectors", found, s)
		}
		found = s
	}
	if found == 0 {
		return 512, nil
	}
	return found, nil
}

// readGPT parses the GPT header at sector lba (1 for the primary, the last
// sector for the backup) and its partition entries, with libblkid's checks
// and bounds of our own.
func readGPT(r io.ReaderAt, size int64, sector int, lba uint64) (*gptTable, error) {
	hdrOff := int64(lba) * int64(sector)
	hdr := make([]byte, sector)
	if _, err := r.ReadAt(hdr, hdrOff); err != nil {
		return nil, vfs.Corruptf("gpt header", hdrOff, "%v", err)
	}
	if string(hdr[:8]) != "EFI PART" {
		return nil, vfs.Corruptf("gpt header", hdrOff, "no GPT signature")
	}
	hdrSize := binary.LittleEndian.Uint32(hdr[12:])
	if hdrSize < 92 || int(hdrSize) > sector {
		return nil, vfs.Corruptf("gpt header", hdrOff, "header size %d", hdrSize)
	}
	want := binary.LittleEndian.Uint32(hdr[16:])
	check := append([]byte(nil), hdr[:hdrSize]...)
	binary.LittleEndian.PutUint32(check[16:], 0)
	if crc32.ChecksumIEEE(check) != want {
		return nil, vfs.Corruptf("gpt header", hdrOff, "header checksum mismatch")
	}
	sectors := uint64(size) / uint64(sector)
	myLBA := binary.LittleEndian.Uint64(hdr[24:])
	firstUsable := binary.LittleEndian.Uint64(hdr[40:])
	lastUsable := binary.LittleEndian.Uint64(hdr[48:])
	entriesLBA := binary.LittleEndian.Uint64(hdr[72:])
	count := binary.LittleEndian.Uint32(hdr[80:])
	entrySize := binary.LittleEndian.Uint32(hdr[84:])
	entriesCRC := binary.LittleEndian.Uint32(hdr[88:])
	switch {
	case myLBA != lba:
		return nil, vfs.Corruptf("gpt header", hdrOff, "header at sector %d says it is at sector %d", lba, myLBA)
	case lastUsable >= sectors || firstUsable > lastUsable:
		return nil, vfs.Corruptf("gpt header", hdrOff, "usable range %d-%d outside a disk of %d sectors", firstUsable, lastUsable, sectors)
	case firstUsable < lba && lba < lastUsable:
		return nil, vfs.Corruptf("gpt header", hdrOff, "header inside the usable range %d-%d", firstUsable, lastUsable)
	case count == 0 || count > maxGPTEntries:
		return nil, vfs.Corruptf("gpt header", hdrOff, "%d partition entries (at most %d)", count, maxGPTEntries)
	case entrySize < 128 || entrySize > maxGPTEntrySize || entrySize%8 != 0:
		return nil, vfs.Corruptf("gpt header", hdrOff, "partition entry size %d", entrySize)
	case entriesLBA < 2 || entriesLBA >= sectors:
		return nil, vfs.Corruptf("gpt header", hdrOff, "partition entries at sector %d", entriesLBA)
	}
	table := make([]byte, int(count)*int(entrySize)) // at most 4 MiB by the limits above
	tableOff := int64(entriesLBA) * int64(sector)
	if _, err := r.ReadAt(table, tableOff); err != nil {
		return nil, vfs.Corruptf("gpt partition entries", tableOff, "%v", err)
	}
	if crc32.ChecksumIEEE(table) != entriesCRC {
		return nil, vfs.Corruptf("gpt partition entries", tableOff, "checksum mismatch")
	}
	t := &gptTable{sector: sector, diskUUID: guidString(hdr[56:72])}
	for i := 0; i < int(count); i++ {
		e := table[i*int(entrySize) : (i+1)*int(entrySize)]
		if bytes.Equal(e[:16], make([]byte, 16)) {
			continue
		}
		first := binary.LittleEndian.Uint64(e[32:])
		last := binary.LittleEndian.Uint64(e[40:])
		entryOff := tableOff + int64(i)*int64(entrySize)
		if first < firstUsable || last > lastUsable || first > last {
			return nil, vfs.Corruptf("gpt partition entry", entryOff, "partition %d spans sectors %d-%d outside %d-%d", i+1, first, last, firstUsable, lastUsable)
		}
		p := gptPartition{
			number:   i + 1,
			typeGUID: guidString(e[0:16]),
			uuid:     guidString(e[16:32]),
			flags:    binary.LittleEndian.Uint64(e[48:]),
			offset:   int64(first) * int64(sector),
			size:     int64(last-first+1) * int64(sector),
			label:    utf16Label(e[56:128]),
		}
		for _, q := range t.parts {
			if p.offset < q.offset+q.size && q.offset < p.offset+p.size {
				return nil, vfs.Corruptf("gpt partition entry", entryOff, "partitions %d and %d overlap", q.number, p.number)
			}
		}
		t.parts = append(t.parts, p)
	}
	return t, nil
}

// guidString formats a GPT GUID: the first three fields are little-endian
// on disk.
func guidString(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

func utf16Label(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.ToValidUTF8(string(utf16.Decode(u)), "\uFFFD")
}
