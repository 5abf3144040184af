package inflate

import (
	"bytes"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
)

// FuzzDecode decodes mutated streams at once and in steps. It never
// panics, never writes past its buffer, decodes in steps what it decodes
// at once, and decodes only streams compress/flate decodes, to the same
// bytes (checkAgainstFlate). Seeds are streams of compress/flate at every
// kind of block and of zlib (the gzip tool), as mksquashfs writes them.
func FuzzDecode(f *testing.F) {
	for i, level := range []int{0, 1, 6, 9, -2} {
		f.Add(deflateGo(f, fstest.Sample(uint64(i), 3000+i*2000), level), uint16(500*i))
	}
	f.Add(deflateZlib(f, fstest.Sample(9, 12000), "-9"), uint16(777))
	f.Fuzz(func(t *testing.T, stream []byte, step uint16) {
		const size = 16 << 10
		out := make([]byte, size+64)
		for i := range out {
			out[i] = 0xa5
		}
		var whole Decoder
		whole.Reset(stream, out[:size])
		n, err := whole.DecodeAll()
		if n > size || !bytes.Equal(out[size:], bytes.Repeat([]byte{0xa5}, 64)) {
			t.Fatalf("wrote past its %d-byte buffer (n = %d)", size, n)
		}
		var steps Decoder
		steps.Reset(stream, make([]byte, size))
		// Steps of step+1 bytes, the last one to past the buffer's end.
		for at := 0; !steps.Done(); at += int(step) + 1 {
			at = min(at, size+1)
			if steps.DecodeTo(at) != nil || at == size+1 {
				break
			}
		}
		got := steps.Bytes()
		if len(got) <= n && !bytes.Equal(got, out[:len(got)]) {
			t.Fatalf("decoding in steps of %d differs from decoding at once", step)
		}
		if err == nil && (!steps.Done() || len(got) != n) {
			t.Fatalf("decoded at once (%d bytes) but not in steps (%d bytes, done %v)", n, len(got), steps.Done())
		}
		checkAgainstFlate(t, stream, size)
	})
}
