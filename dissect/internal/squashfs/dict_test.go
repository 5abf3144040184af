package squashfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os/exec"
	"runtime"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// compressWith runs an xz-utils command over data.
func compressWith(t *testing.T, data []byte, args ...string) []byte {
	t.Helper()
	testenv.NeedTool(t, "xz")
	cmd := exec.Command("xz", append(args, "-c")...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xz %v: %v", args, err)
	}
	return out
}

// allocated is how many bytes fn allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A block's stream header names the dictionary the decoder allocates. No
// SquashFS block needs one larger than the largest block (1 MiB), so a
// header that claims gigabytes is refused before anything is allocated
// for it: a root process at boot must not be made to ask for 4 GiB.
func TestHugeDictionaryIsRefused(t *testing.T) {
	data := bytes.Repeat([]byte("portable "), metadataBlockSize/9)
	xzStream := compressWith(t, data, "--format=xz", "--check=crc32", "--lzma2=dict=128KiB")
	// The xz block header follows the 12-byte stream header: its size
	// byte, flags, then the LZMA2 filter (id 0x21, one byte of
	// properties: the dictionary size), padding and a CRC32.
	hdr := xzStream[12 : 12+(int(xzStream[12])+1)*4]
	at := bytes.Index(hdr, []byte{0x21, 0x01})
	if at < 0 {
		t.Fatalf("no LZMA2 filter in block header % x", hdr)
	}
	hdr[at+2] = 40 // 4 GiB - 1
	binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], crc32.ChecksumIEEE(hdr[:len(hdr)-4]))

	lzmaStream := compressWith(t, data, "--format=lzma")
	// The .lzma header: properties, then the dictionary size.
	binary.LittleEndian.PutUint32(lzmaStream[1:], 1<<31-1)
	binary.LittleEndian.PutUint64(lzmaStream[5:], ^uint64(0))

	for _, c := range []struct {
		comp   Compressor
		stream []byte
	}{{XZ, xzStream}, {LZMA, lzmaStream}} {
		t.Run(c.comp.String(), func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = c.comp.decompressSized(c.stream, metadataBlockSize) })
			if err == nil {
				t.Error("a stream asking for a dictionary of gigabytes was decoded")
			}
			if n > 64<<20 {
				t.Errorf("decoding allocated %d MiB", n>>20)
			}
		})
	}
}

// A filter chain (mksquashfs -Xbcj) is a feature we do not read, and says so.
func TestXZFilterChainIsUnsupported(t *testing.T) {
	data := bytes.Repeat([]byte("portable "), metadataBlockSize/9)
	stream := compressWith(t, data, "--format=xz", "--check=crc32", "--x86", "--lzma2=dict=128KiB")
	if _, err := XZ.decompressSized(stream, metadataBlockSize); !errors.Is(err, vfs.ErrUnsupported) {
		t.Errorf("err = %v, want ErrUnsupported", err)
	}
	plain := compressWith(t, data, "--format=xz", "--check=crc32", "--lzma2=dict=128KiB")
	if got, err := XZ.decompressSized(plain, metadataBlockSize); err != nil || !bytes.Equal(got, data) {
		t.Errorf("plain stream: %d bytes, %v", len(got), err)
	}
	// A corrupted byte of the data is caught by the stream's CRC32 or
	// the decoder, never served.
	bad := bytes.Clone(plain)
	bad[len(bad)-40] ^= 0x10
	if got, err := XZ.decompressSized(bad, metadataBlockSize); err == nil && !bytes.Equal(got, data) {
		t.Errorf("corrupt stream decoded to %d wrong bytes without an error", len(got))
	}
}
