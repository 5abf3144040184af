package dissect

import (
	"bytes"
	"encoding/binary"
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

// findGPT looks for a GPT header at LBA 1 for each sector size systemd
// probes, and returns the sector size it was found with, 0 if none.
func findGPT(r io.ReaderAt) int {
	for _, s := range []int{512, 1024, 2048, 4096} {
		buf := make([]byte, 8)
		if _, err := r.ReadAt(buf, int64(s)); err == nil && string(buf) == "EFI PART" {
			return s
		}
	}
	return 0
}

// readGPT parses the primary GPT of a disk with the given sector size.
func readGPT(r io.ReaderAt, size int64, sector int) (diskUUID string, parts []gptPartition, err error) {
	hdrOff := int64(sector)
	hdr := make([]byte, sector)
	if _, err := r.ReadAt(hdr, hdrOff); err != nil {
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "%v", err)
	}
	hdrSize := binary.LittleEndian.Uint32(hdr[12:])
	if hdrSize < 92 || int(hdrSize) > sector {
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "header size %d", hdrSize)
	}
	want := binary.LittleEndian.Uint32(hdr[16:])
	check := append([]byte(nil), hdr[:hdrSize]...)
	binary.LittleEndian.PutUint32(check[16:], 0)
	if crc32.ChecksumIEEE(check) != want {
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "header checksum mismatch")
	}
	sectors := uint64(size) / uint64(sector)
	firstUsable := binary.LittleEndian.Uint64(hdr[40:])
	lastUsable := binary.LittleEndian.Uint64(hdr[48:])
	entriesLBA := binary.LittleEndian.Uint64(hdr[72:])
	count := binary.LittleEndian.Uint32(hdr[80:])
	entrySize := binary.LittleEndian.Uint32(hdr[84:])
	entriesCRC := binary.LittleEndian.Uint32(hdr[88:])
	switch {
	case lastUsable >= sectors || firstUsable > lastUsable:
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "usable range %d-%d outside a disk of %d sectors", firstUsable, lastUsable, sectors)
	case count == 0 || count > maxGPTEntries:
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "%d partition entries (at most %d)", count, maxGPTEntries)
	case entrySize < 128 || entrySize > maxGPTEntrySize || entrySize%8 != 0:
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "partition entry size %d", entrySize)
	case entriesLBA < 2 || entriesLBA >= sectors:
		return "", nil, vfs.Corruptf("gpt header", hdrOff, "partition entries at sector %d", entriesLBA)
	}
	table := make([]byte, int(count)*int(entrySize)) // at most 4 MiB by the limits above
	tableOff := int64(entriesLBA) * int64(sector)
	if _, err := r.ReadAt(table, tableOff); err != nil {
		return "", nil, vfs.Corruptf("gpt partition entries", tableOff, "%v", err)
	}
	if crc32.ChecksumIEEE(table) != entriesCRC {
		return "", nil, vfs.Corruptf("gpt partition entries", tableOff, "checksum mismatch")
	}
	diskUUID = guidString(hdr[56:72])
	for i := 0; i < int(count); i++ {
		e := table[i*int(entrySize) : (i+1)*int(entrySize)]
		if bytes.Equal(e[:16], make([]byte, 16)) {
			continue
		}
		first := binary.LittleEndian.Uint64(e[32:])
		last := binary.LittleEndian.Uint64(e[40:])
		entryOff := tableOff + int64(i)*int64(entrySize)
		if first < firstUsable || last > lastUsable || first > last {
			return "", nil, vfs.Corruptf("gpt partition entry", entryOff, "partition %d spans sectors %d-%d outside %d-%d", i+1, first, last, firstUsable, lastUsable)
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
		for _, q := range parts {
			if p.offset < q.offset+q.size && q.offset < p.offset+p.size {
				return "", nil, vfs.Corruptf("gpt partition entry", entryOff, "partitions %d and %d overlap", q.number, p.number)
			}
		}
		parts = append(parts, p)
	}
	return diskUUID, parts, nil
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
