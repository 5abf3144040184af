package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// BenchmarkHostileBesideGood is issue 18's run: decompression amplifiers
// of every squashfs compressor (40 units of 16 MiB of one byte, and 40 at
// the 1 MiB cap) in many copies beside good images. Each run must judge
// every image, attach every good one and leave none for the deadline (the
// run has the generator's own, DefaultDeadline); ns/op is the run,
// end-heap the most the heap held as a run ended, max-rss the process's
// peak resident memory over the runs (its high-water mark is reset after
// the images are made).
func BenchmarkHostileBesideGood(b *testing.B) {
	testenv.NeedTool(b, "mksquashfs")
	root := b.TempDir()
	os.Chmod(root, 0o755)
	portables := filepath.Join(root, "var/lib/portables")
	var bombs []string
	for _, size := range []int{16 << 20, 1 << 20} {
		src := bombTree(b, size)
		for _, comp := range []string{"xz", "gzip", "zstd", "lz4", "lzo"} {
			img := filepath.Join(b.TempDir(), fmt.Sprintf("%s-%d.raw", comp, size))
			if out, err := exec.Command("mksquashfs", src, img, "-comp", comp, "-noappend", "-quiet", "-all-root").CombinedOutput(); err != nil {
				b.Fatalf("mksquashfs %s: %v\n%s", comp, err, out)
			}
			bombs = append(bombs, img)
		}
	}
	const copies, good = 20, 20
	for i := 0; i < copies; i++ {
		for j, bomb := range bombs {
			name := fmt.Sprintf("hostile%02d-%02d", i, j)
			data, _ := os.ReadFile(bomb)
			write(b, filepath.Join(portables, name+".raw"), string(data))
			write(b, filepath.Join(root, "etc/systemd/portable", name+".portable"), "[Portable]\nMatch=bomb\n")
		}
	}
	for i := 0; i < good; i++ {
		name := fmt.Sprintf("good%02d", i)
		dirImage(b, root, name, map[string]string{name + ".service": "[Service]\nExecStart=/bin/true\n"})
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	debug.FreeOSMemory()
	resetPeakRSS(b)
	for b.Loop() {
		out := b.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), DefaultDeadline)
		res, _, err := GenerateInto(ctx, Config{Root: root}, out)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		attached := 0
		for _, r := range res.Reports {
			if errors.Is(r.Err, ErrDeadline) {
				b.Fatalf("%s: %s", r.Name, r.Reason)
			}
			switch {
			case r.State == StateAttached:
				attached++
			case r.State != StateSkipped:
				b.Fatalf("%s: %s", r.Name, r.State)
			}
		}
		if attached != good || len(res.Reports) != good+copies*len(bombs) {
			b.Fatalf("%d attached of %d reports", attached, len(res.Reports))
		}
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	b.ReportMetric(float64(peak), "end-heap")
	b.ReportMetric(float64(peakRSS(b)), "max-rss")
	b.ReportMetric(float64(copies*len(bombs)), "hostile-images")
}

// bombTree is an image tree whose 40 matching units are one file of size
// bytes of one repeated byte, under 40 names (hard links).
func bombTree(b *testing.B, size int) string {
	src := b.TempDir()
	units := filepath.Join(src, "usr/lib/systemd/system")
	write(b, filepath.Join(src, "usr/lib/os-release"), "ID=bomb\n")
	first := filepath.Join(units, "bomb-00.service")
	write(b, first, string(bytes.Repeat([]byte("A"), size)))
	for i := 1; i < 40; i++ {
		if err := os.Link(first, filepath.Join(units, fmt.Sprintf("bomb-%02d.service", i))); err != nil {
			b.Fatal(err)
		}
	}
	return src
}

// resetPeakRSS resets the process's resident-memory high-water mark
// (VmHWM), which peakRSS reads, so that it counts from here on.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("resetting the peak RSS: %v", err)
	}
}

// peakRSS is the process's resident-memory high-water mark in bytes.
func peakRSS(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM: %q", v)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
