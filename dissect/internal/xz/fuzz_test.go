package xz

import (
	"bytes"
	"io"
	"testing"

	ulikunitz "github.com/ulikunitz/xz"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// FuzzDecode decodes mutated streams at once and in steps. It never
// panics, never writes past its buffer, decodes in steps what it decodes
// at once, and agrees with github.com/ulikunitz/xz (an independent
// decoder) on every stream both decode. Seeds are streams xz-utils wrote.
func FuzzDecode(f *testing.F) {
	if testenv.HaveTool(f, "xz") {
		for i, args := range [][]string{
			{"--check=crc32", "--lzma2=dict=8KiB"},
			{"--check=crc64", "--lzma2=dict=64KiB,lc=1,lp=2,pb=1"},
			{"--check=none", "-0"},
			{"--check=sha256", "--block-size=3000"},
		} {
			f.Add(compress(f, fstest.Sample(uint64(i), 6000+i*3000), args...), uint16(1000*i))
		}
	}
	f.Fuzz(checkDecode)
}

func checkDecode(t *testing.T, stream []byte, step uint16) {
	const size = 16 << 10
	var whole Decoder
	out := make([]byte, size+64)
	for i := range out {
		out[i] = 0xa5
	}
	if whole.Reset(stream, out[:size], 1<<20) != nil {
		return
	}
	n, err := whole.DecodeAll()
	if n > size || !bytes.Equal(out[size:], bytes.Repeat([]byte{0xa5}, 64)) {
		t.Fatalf("wrote past its %d-byte buffer (n = %d)", size, n)
	}
	var steps Decoder
	out2 := make([]byte, size)
	if steps.Reset(stream, out2, 1<<20) != nil {
		t.Fatal("Reset failed the second time")
	}
	for at := 0; !steps.Done() && at <= size+1; at += int(step) + 1 {
		if steps.DecodeTo(at) != nil {
			break
		}
	}
	got := steps.Bytes()
	if !bytes.Equal(got, out[:len(got)]) && len(got) <= n {
		t.Fatalf("decoding in steps of %d differs from decoding at once", step)
	}
	if err == nil && (!steps.Done() || len(got) != n) {
		t.Fatalf("decoded at once (%d bytes) but not in steps (%d bytes, done %v)", n, len(got), steps.Done())
	}
	if err != nil {
		return
	}
	r, rerr := ulikunitz.ReaderConfig{DictCap: 1 << 20, SingleStream: true}.NewReader(bytes.NewReader(stream))
	if rerr != nil {
		return
	}
	want, rerr := io.ReadAll(io.LimitReader(r, size+1))
	if rerr == nil && !bytes.Equal(want, out[:n]) {
		t.Fatalf("decoded %d bytes, github.com/ulikunitz/xz %d, differing", n, len(want))
	}
}
