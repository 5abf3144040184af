package erofs

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// lz4Blocks compresses a few kinds of data with pierrec/lz4's block
// compressor, fast and high-compression, as test input for our decoder.
func lz4Blocks(t testing.TB) map[string][2][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	random := make([]byte, 70_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var words bytes.Buffer
	for words.Len() < 200_000 {
		words.WriteString([]string{"erofs ", "lz4 ", "cluster ", "extent\n"}[rng.IntN(4)])
	}
	inputs := map[string][]byte{
		"random": random,
		"zeros":  make([]byte, 1<<20),
		"words":  words.Bytes(),
		"period": bytes.Repeat([]byte("abc"), 50_000),
		"short":  []byte("hi"),
	}
	out := map[string][2][]byte{}
	for name, in := range inputs {
		for _, hc := range []bool{false, true} {
			buf := make([]byte, lz4.CompressBlockBound(len(in)))
			var n int
			var err error
			if hc {
				n, err = lz4.CompressBlockHC(in, buf, lz4.Level9, nil, nil)
			} else {
				n, err = lz4.CompressBlock(in, buf, nil)
			}
			if err != nil || n == 0 {
				t.Fatalf("%s: compress: %d, %v", name, n, err)
			}
			key := name
			if hc {
				key += "-hc"
			}
			out[key] = [2][]byte{in, buf[:n]}
		}
	}
	return out
}

func TestLZ4Decode(t *testing.T) {
	for name, c := range lz4Blocks(t) {
		in, block := c[0], c[1]
		dst := make([]byte, len(in))
		if n, err := lz4Decode(dst, block); err != nil || n != len(in) || !bytes.Equal(dst, in) {
			t.Errorf("%s: %d of %d bytes, %v", name, n, len(in), err)
		}
		// Partial decoding: any prefix decodes to the input's prefix.
		for _, k := range []int{0, 1, len(in) / 3, len(in) - 1} {
			if k < 0 {
				continue
			}
			part := make([]byte, k)
			if n, err := lz4Decode(part, block); err != nil || n != k || !bytes.Equal(part, in[:k]) {
				t.Errorf("%s: prefix of %d: %d bytes, %v", name, k, n, err)
			}
		}
		// A truncated block is an error or a short output, never a panic
		// or a wrong byte.
		for _, cut := range []int{1, len(block) / 2, len(block) - 1} {
			n, _ := lz4Decode(dst, block[:cut])
			if n > len(in) || !bytes.Equal(dst[:n], in[:n]) {
				t.Errorf("%s cut at %d: %d wrong bytes", name, cut, n)
			}
			if n == len(in) && cut < len(block) {
				t.Errorf("%s cut at %d: decoded it all", name, cut)
			}
		}
	}
}

// FuzzLZ4 feeds the decoder arbitrary blocks: it must stay inside its
// buffers and agree with pierrec/lz4 wherever that one succeeds.
func FuzzLZ4(f *testing.F) {
	for _, c := range lz4Blocks(f) {
		if len(c[1]) < 4096 {
			f.Add(c[1], uint16(len(c[0])))
		}
	}
	f.Add([]byte{0x1f, 'a', 1, 0, 0xff, 0xff, 0x10}, uint16(600))
	f.Fuzz(func(t *testing.T, block []byte, size uint16) {
		dst := make([]byte, size)
		n, err := lz4Decode(dst, block)
		if n > len(dst) {
			t.Fatalf("wrote %d of %d", n, len(dst))
		}
		ref := make([]byte, size)
		m, rerr := lz4.UncompressBlock(block, ref)
		if rerr == nil && m == int(size) && (err != nil || n != m || !bytes.Equal(dst, ref)) {
			t.Fatalf("pierrec decodes %d bytes, we %d (%v)", m, n, err)
		}
	})
}
