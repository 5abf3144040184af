package fstest

import (
	"strings"
	"testing"
)

func TestReadMeter(t *testing.T) {
	m := &ReadMeter{R: strings.NewReader(strings.Repeat("x", 100))}
	buf := make([]byte, 10)
	for _, off := range []int64{0, 20, 5, 40, 15, 0} {
		m.ReadAt(buf, off)
	}
	// 0-10, 20-30, 5-15 (5 again), 40-50, 15-25 (5 again), 0-10 (10 again)
	if st := m.Stats(); st.Calls != 6 || st.Bytes != 60 || st.Reread != 20 {
		t.Errorf("%+v, want 6 calls, 60 bytes, 20 re-read", st)
	}
	if len(m.spans) != 2 || m.spans[0] != (span{0, 30}) || m.spans[1] != (span{40, 50}) {
		t.Errorf("spans %v", m.spans)
	}
}
