package xz

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// compress runs xz-utils over data: the streams mksquashfs writes come
// from the same library.
func compress(t testing.TB, data []byte, args ...string) []byte {
	t.Helper()
	testenv.NeedTool(t, "xz")
	cmd := exec.Command("xz", append([]string{"--format=xz", "-c"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xz %v: %v", args, err)
	}
	return out
}

func decodeAll(t testing.TB, stream []byte, size int) []byte {
	t.Helper()
	var d Decoder
	out := make([]byte, size)
	if err := d.Reset(stream, out, 1<<30); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	n, err := d.DecodeAll()
	if err != nil {
		t.Fatalf("DecodeAll: %v", err)
	}
	return out[:n]
}

// Streams xz-utils writes, with every check, properties and chunking the
// options reach, decode to what was compressed.
func TestDecodesWhatXZWrites(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
		args []string
	}{
		{"empty", 0, []string{"--check=crc32"}},
		{"one byte", 1, []string{"--check=crc32"}},
		{"metadata block", 8192, []string{"--check=crc32", "--lzma2=dict=8KiB"}},
		{"fragment block", 128 << 10, []string{"--check=crc32", "--lzma2=dict=128KiB"}},
		{"1 MiB block", 1 << 20, []string{"--check=crc32", "--lzma2=dict=1MiB"}},
		{"no check", 64 << 10, []string{"--check=none"}},
		{"crc64", 64 << 10, []string{"--check=crc64"}},
		{"sha256", 64 << 10, []string{"--check=sha256"}},
		{"extreme", 200 << 10, []string{"-9e", "--check=crc32"}},
		{"fast", 200 << 10, []string{"-0", "--check=crc32"}},
		{"lc0 lp2 pb0", 100 << 10, []string{"--check=crc32", "--lzma2=lc=0,lp=2,pb=0"}},
		{"lc4 lp0 pb4", 100 << 10, []string{"--check=crc32", "--lzma2=lc=4,lp=0,pb=4"}},
		{"lc1 lp3 pb2", 100 << 10, []string{"--check=crc32", "--lzma2=lc=1,lp=3,pb=2"}},
		{"many blocks", 300 << 10, []string{"--check=crc64", "--block-size=40000"}},
		{"nice len 273", 100 << 10, []string{"--check=crc32", "--lzma2=nice=273,mf=bt4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := fstest.Sample(uint64(c.size), c.size)
			got := decodeAll(t, compress(t, data, c.args...), max(c.size, 1))
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, differing from the %d compressed", len(got), len(data))
			}
		})
	}
}

// Incompressible data is stored in LZMA2's uncompressed chunks, between
// coded ones.
func TestStoredChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var data []byte
	for i := range 6 {
		if i%2 == 0 {
			noise := make([]byte, 70<<10)
			for j := range noise {
				noise[j] = byte(rng.Uint32())
			}
			data = append(data, noise...)
		} else {
			data = append(data, fstest.Sample(uint64(i), 50<<10)...)
		}
	}
	stream := compress(t, data, "--check=crc32")
	if got := decodeAll(t, stream, len(data)); !bytes.Equal(got, data) {
		t.Fatal("stored chunks decoded wrong")
	}
}

// Decoding in steps gives the same bytes as decoding at once, and stops
// close to where it is asked to.
func TestDecodeInSteps(t *testing.T) {
	data := fstest.Sample(7, 128<<10)
	stream := compress(t, data, "--check=crc32", "--lzma2=dict=128KiB")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		var d Decoder
		out := make([]byte, len(data))
		if err := d.Reset(stream, out, 1<<20); err != nil {
			t.Fatal(err)
		}
		for at := 0; !d.Done(); {
			at += rng.IntN(20000)
			if err := d.DecodeTo(at); err != nil {
				t.Fatal(err)
			}
			got := d.Bytes()
			if len(got) < min(at, len(data)) || len(got) > max(at, 0)+273 && !d.Done() {
				t.Fatalf("asked for %d bytes, got %d", at, len(got))
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Fatalf("the first %d bytes differ", len(got))
			}
			if at > len(data) && !d.Done() {
				t.Fatal("not done past the end")
			}
		}
	}
}

// A stream longer than its buffer is refused, however it is read.
func TestTooLong(t *testing.T) {
	data := fstest.Sample(9, 20000)
	stream := compress(t, data, "--check=crc32", "--lzma2=dict=64KiB")
	var d Decoder
	if err := d.Reset(stream, make([]byte, 8192), 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DecodeAll(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
}

// Headers that ask for what no SquashFS block needs are refused before
// decoding: a dictionary past the bound, a filter chain (unsupported).
func TestRefusedHeaders(t *testing.T) {
	data := fstest.Sample(11, 10000)
	var d Decoder
	big := compress(t, data, "--check=crc32", "--lzma2=dict=2MiB")
	if err := d.Reset(big, make([]byte, len(data)), 1<<20); err == nil {
		t.Error("a 2 MiB dictionary was accepted under a 1 MiB bound")
	}
	bcj := compress(t, data, "--check=crc32", "--x86", "--lzma2=dict=128KiB")
	if err := d.Reset(bcj, make([]byte, len(data)), 1<<20); !errors.Is(err, vfs.ErrUnsupported) {
		t.Errorf("filter chain: err = %v, want ErrUnsupported", err)
	}
}

// Every damaged byte of a stream is caught by a check, the decoder's own
// bounds, or decodes to the same bytes (a byte of padding the format does
// not check): never to different data without an error, never a panic.
func TestDamagedStreams(t *testing.T) {
	data := fstest.Sample(13, 30000)
	stream := compress(t, data, "--check=crc32", "--lzma2=dict=32KiB")
	for i := range stream {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(stream)
			bad[i] ^= flip
			var d Decoder
			out := make([]byte, len(data))
			if d.Reset(bad, out, 1<<20) != nil {
				continue
			}
			n, err := d.DecodeAll()
			if err == nil && !bytes.Equal(out[:n], data) {
				t.Fatalf("byte %d ^ %#x: decoded to different data without an error", i, flip)
			}
		}
	}
	for n := range len(stream) {
		var d Decoder
		out := make([]byte, len(data))
		if d.Reset(stream[:n], out, 1<<20) != nil {
			continue
		}
		if _, err := d.DecodeAll(); err == nil {
			t.Fatalf("a stream cut to %d bytes decoded", n)
		}
	}
}
