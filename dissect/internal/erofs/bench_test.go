package erofs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// BenchmarkOpenAndRead opens an image and reads what the generator reads,
// os-release and every unit file, as a fresh boot would: nothing cached.
func BenchmarkOpenAndRead(b *testing.B) {
	src := source(b, 1000, true)
	// mkfs.erofs stores a file uncompressed unless compressing saves a
	// block, so ordinary unit files are never compressed. Units of 16 KiB
	// (long comments) are, and show what decoding costs.
	bigUnits := source(b, 1000, true)
	comment := strings.Repeat("# a long comment explaining the service, as some units have\n", 280)
	for _, u := range []string{"app.service", "app.socket"} {
		p := filepath.Join(bigUnits, "usr/lib/systemd/system", u)
		old, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, append([]byte(comment), old...), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		src  string
		args []string
	}{
		{"plain", src, nil},
		{"lz4", src, []string{"-zlz4"}},
		{"lz4hc", src, []string{"-zlz4hc"}},
		{"lz4hc-ztailpacking", src, []string{"-zlz4hc", "-Eztailpacking"}},
		{"lz4-16k-units", bigUnits, []string{"-zlz4"}},
		{"lz4hc-16k-units", bigUnits, []string{"-zlz4hc"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			f, err := os.Open(build(b, c.src, c.args...))
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
				fstest.ReadUnits(b, vfs.NewTree(e, nil, budget), false)
				st = budget.Stats()
			}
			b.ReportMetric(float64(st.BytesRead), "bytes-read/op")
			b.ReportMetric(float64(st.Decompressed), "decompressed/op")
			b.ReportMetric(float64(st.Entries), "entries/op")
		})
	}
}
