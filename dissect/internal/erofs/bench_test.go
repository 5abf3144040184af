package erofs

import (
	"os"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// BenchmarkOpenAndRead opens an image and reads what the generator reads,
// os-release and every unit file, as a fresh boot would: nothing cached.
func BenchmarkOpenAndRead(b *testing.B) {
	src := source(b, 1000, true)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"plain", nil},
		{"lz4", []string{"-zlz4"}},
		{"lz4hc", []string{"-zlz4hc"}},
		{"lz4hc-ztailpacking", []string{"-zlz4hc", "-Eztailpacking"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			f, err := os.Open(build(b, src, c.args...))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			var st vfs.Stats
			b.ReportAllocs()
			for b.Loop() {
				budget := vfs.NewBudget(vfs.DefaultLimits)
				e, err := Open(vfs.CountingReaderAt{R: f, B: budget}, fi.Size(), budget)
				if err != nil {
					b.Fatal(err)
				}
				readUnits(b, vfs.NewTree(e, nil, budget))
				st = budget.Stats()
			}
			b.ReportMetric(float64(st.BytesRead), "bytes-read/op")
			b.ReportMetric(float64(st.Decompressed), "decompressed/op")
			b.ReportMetric(float64(st.Entries), "entries/op")
		})
	}
}
