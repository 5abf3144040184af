package dissect

import (
	"bytes"
	"io"
	"testing"
)

type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// Probing asks many small questions at the start of an image: one read
// answers them all, and reads past the head go to the image as they are.
func TestHeadReaderAt(t *testing.T) {
	data := make([]byte, 3*headSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	under := &countingReader{r: bytes.NewReader(data)}
	h := newHeadReaderAt(under, int64(len(data)))
	for _, q := range []struct{ off, n int }{{0, 4}, {510, 2}, {512, 8}, {1024, 1024}, {4096, 8}, {headSize - 1, 1}} {
		p := make([]byte, q.n)
		if n, err := h.ReadAt(p, int64(q.off)); err != nil || n != q.n || !bytes.Equal(p, data[q.off:q.off+q.n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", q.n, q.off, n, err)
		}
	}
	if under.reads != 1 {
		t.Errorf("%d reads of the image for the head, want 1", under.reads)
	}
	p := make([]byte, 16)
	if _, err := h.ReadAt(p, headSize-8); err != nil || !bytes.Equal(p, data[headSize-8:headSize+8]) || under.reads != 2 {
		t.Errorf("a read across the head's end: %v, %d reads", err, under.reads)
	}
	// An image shorter than the head: reads past its end fail as the
	// image's own reads do.
	short := newHeadReaderAt(bytes.NewReader(data[:100]), 100)
	if _, err := short.ReadAt(make([]byte, 8), 512); err == nil {
		t.Error("a read past a 100-byte image succeeded")
	}
}
