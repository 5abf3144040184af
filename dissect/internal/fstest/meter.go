package fstest

import (
	"io"
	"sort"
	"sync"
)

// ReadMeter is an io.ReaderAt that records which bytes of R were read, so
// that a test or benchmark can tell the bytes read more than once (a reader
// that fetches a block again instead of keeping it) from the rest.
type ReadMeter struct {
	R     io.ReaderAt
	mu    sync.Mutex
	spans []span // disjoint, sorted by start
	stats MeterStats
}

// MeterStats is what a ReadMeter saw.
type MeterStats struct {
	Calls  int   // ReadAt calls
	Bytes  int64 // bytes asked for, in all
	Reread int64 // bytes asked for that an earlier call had read already
}

type span struct{ start, end int64 }

// ReadAt implements io.ReaderAt.
func (m *ReadMeter) ReadAt(p []byte, off int64) (int, error) {
	m.record(off, off+int64(len(p)))
	return m.R.ReadAt(p, off)
}

// Stats returns what the meter saw so far.
func (m *ReadMeter) Stats() MeterStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

func (m *ReadMeter) record(start, end int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.Calls++
	m.stats.Bytes += end - start
	if end <= start {
		return
	}
	// The spans that touch [start, end) are merged into one.
	i := sort.Search(len(m.spans), func(i int) bool { return m.spans[i].end >= start })
	j := i
	merged := span{start, end}
	for ; j < len(m.spans) && m.spans[j].start <= end; j++ {
		s := m.spans[j]
		m.stats.Reread += max(0, min(s.end, end)-max(s.start, start))
		merged.start, merged.end = min(merged.start, s.start), max(merged.end, s.end)
	}
	m.spans = append(m.spans[:i], append([]span{merged}, m.spans[j:]...)...)
}
