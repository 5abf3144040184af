package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// deflateGo compresses with compress/flate at a level.
func deflateGo(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// deflateZlib compresses with the gzip tool (zlib's deflate, as mksquashfs
// uses it) and returns the raw DEFLATE data.
func deflateZlib(t testing.TB, data []byte, level string) []byte {
	t.Helper()
	return deflateOf(gzipMember(t, data, level))
}

// gzipMember is data as the gzip tool writes it, at a level ("-9").
func gzipMember(t testing.TB, data []byte, level string) []byte {
	t.Helper()
	testenv.NeedTool(t, "gzip")
	cmd := exec.Command("gzip", "-c", "-n", level)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out
}

// deflateOf is the DEFLATE data of a gzip member without a name: after a
// 10-byte header (-n), before 8 bytes of trailer.
func deflateOf(member []byte) []byte { return member[10 : len(member)-8] }

func decodeAll(t testing.TB, stream []byte, size int) []byte {
	t.Helper()
	var d Decoder
	out := make([]byte, size)
	d.Reset(stream, out)
	n, err := d.DecodeAll()
	if err != nil {
		t.Fatalf("DecodeAll: %v", err)
	}
	return out[:n]
}

// Streams of both compressors, at every level (stored, fixed and dynamic
// blocks), decode to what was compressed.
func TestDecodesWhatDeflateWrites(t *testing.T) {
	for _, size := range []int{0, 1, 100, 8192, 128 << 10, 1 << 20} {
		data := fstest.Sample(uint64(size), size)
		for level := -2; level <= 9; level++ {
			if got := decodeAll(t, deflateGo(t, data, level), max(size, 1)); !bytes.Equal(got, data) {
				t.Fatalf("compress/flate level %d, %d bytes: decoded differently", level, size)
			}
		}
		for _, level := range []string{"-1", "-6", "-9"} {
			if got := decodeAll(t, deflateZlib(t, data, level), max(size, 1)); !bytes.Equal(got, data) {
				t.Fatalf("gzip %s, %d bytes: decoded differently", level, size)
			}
		}
	}
}

// Decoding in steps gives the same bytes as decoding at once, and stops
// close to where it is asked to.
func TestDecodeInSteps(t *testing.T) {
	data := fstest.Sample(7, 128<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, stream := range [][]byte{deflateGo(t, data, 6), deflateGo(t, data, 0), deflateZlib(t, data, "-9")} {
		for range 10 {
			var d Decoder
			out := make([]byte, len(data))
			d.Reset(stream, out)
			for at := 0; !d.Done(); {
				at += rng.IntN(20000)
				if err := d.DecodeTo(at); err != nil {
					t.Fatal(err)
				}
				got := d.Bytes()
				if len(got) < min(at, len(data)) || len(got) > max(at, 0)+258 && !d.Done() && !bytes.Equal(stream, deflateGo(t, data, 0)) {
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
}

// A stream longer than its buffer is refused, whatever its blocks.
func TestTooLong(t *testing.T) {
	data := fstest.Sample(9, 20000)
	for _, level := range []int{0, 1, 6} {
		var d Decoder
		d.Reset(deflateGo(t, data, level), make([]byte, 8192))
		if _, err := d.DecodeAll(); !errors.Is(err, ErrTooLong) {
			t.Errorf("level %d: err = %v, want ErrTooLong", level, err)
		}
	}
}

// Every damaged byte and every cut of a stream either fails, or decodes
// to what compress/flate decodes it to: never different data without an
// error, never a panic.
func TestDamagedStreams(t *testing.T) {
	data := fstest.Sample(13, 30000)
	for _, stream := range [][]byte{deflateZlib(t, data, "-6"), deflateGo(t, data, 1)} {
		for i := range stream {
			for _, flip := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(stream)
				bad[i] ^= flip
				checkAgainstFlate(t, bad, len(data))
			}
		}
		for n := range len(stream) {
			var d Decoder
			d.Reset(stream[:n], make([]byte, len(data)))
			if _, err := d.DecodeAll(); err == nil {
				t.Fatalf("a stream cut to %d bytes decoded", n)
			}
		}
	}
}

// checkAgainstFlate decodes stream at once and holds the result to
// compress/flate's: when this decoder succeeds, so does compress/flate,
// with the same bytes.
func checkAgainstFlate(t *testing.T, stream []byte, size int) {
	var d Decoder
	out := make([]byte, size)
	d.Reset(stream, out)
	n, err := d.DecodeAll()
	if err != nil {
		return
	}
	r := flate.NewReader(bytes.NewReader(stream))
	var want bytes.Buffer
	if _, ferr := want.ReadFrom(r); ferr != nil {
		t.Fatalf("decoded %d bytes where compress/flate fails: %v", n, ferr)
	}
	if !bytes.Equal(want.Bytes(), out[:n]) {
		t.Fatalf("decoded %d bytes, compress/flate %d, differing", n, want.Len())
	}
}
