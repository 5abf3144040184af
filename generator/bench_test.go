package generator

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// BenchmarkGenerate measures a whole run (scan, dissect, plan, write) over
// 100 images of five units each, as directories and as squashfs files. The
// output goes to a fresh directory under TMPDIR each time; point TMPDIR at a
// tmpfs to measure what /run/systemd/generator costs. `just bench`
// (integration/bench_test.go) measures the thousand-image target against
// systemd's own tools.
func BenchmarkGenerate(b *testing.B) {
	for _, kind := range []string{"directory", "squashfs"} {
		b.Run(kind+"/100", func(b *testing.B) {
			root := benchRoot(b, kind, 100)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, _, err := Generate(Config{Root: root})
				if err != nil {
					b.Fatal(err)
				}
				dir := filepath.Join(tmpfsDir(b), "normal")
				if err := Write(dir, out.Files); err != nil {
					b.Fatal(err)
				}
				if i == 0 && len(out.Files) < 100*5 {
					b.Fatalf("only %d files for 100 images", len(out.Files))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/100, "µs/image")
		})
	}
}

// BenchmarkGenerateRoot measures whole runs over a tree made elsewhere,
// for profiling on the images of `just bench`: PG_BENCH_ROOT=DIR names a
// --root (PG_BENCH_KEEP=DIR just bench keeps its sets; move one to
// DIR/var/lib/portables).
func BenchmarkGenerateRoot(b *testing.B) {
	root := os.Getenv("PG_BENCH_ROOT")
	if root == "" {
		b.Skip("set PG_BENCH_ROOT to a --root holding images")
	}
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		out, _, err := Generate(Config{Root: root})
		if err != nil {
			b.Fatal(err)
		}
		dir := filepath.Join(tmpfsDir(b), "normal")
		if err := Write(dir, out.Files); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's CPU time so far. The machines are shared: CPU
// time says more than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRoot builds a --root with n images of one kind in /var/lib/portables.
func benchRoot(b *testing.B, kind string, n int) string {
	b.Helper()
	if kind == "squashfs" {
		testenv.NeedTool(b, "mksquashfs")
	}
	root := b.TempDir()
	images := filepath.Join(root, "var/lib/portables")
	tree := filepath.Join(b.TempDir(), "tree")
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.MkdirAll(images, 0o755))
	must(os.Chmod(root, 0o755))
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("app%03d", i)
		dir := tree
		if kind == "directory" {
			dir = filepath.Join(images, name)
		}
		must(os.RemoveAll(tree))
		units := filepath.Join(dir, "usr/lib/systemd/system")
		must(os.MkdirAll(units, 0o755))
		must(os.WriteFile(filepath.Join(dir, "usr/lib/os-release"), []byte("ID=debian\nVERSION_ID=12\n"), 0o644))
		for _, u := range []string{name + ".service", name + "-worker.service", name + "-api.service", name + "-cleanup.service", name + ".socket"} {
			body := "[Unit]\nDescription=" + u + "\n\n[Service]\nExecStart=/usr/bin/true\n"
			if filepath.Ext(u) == ".socket" {
				body = "[Socket]\nListenStream=/run/" + name + ".sock\n"
			}
			must(os.WriteFile(filepath.Join(units, u), []byte(body), 0o644))
		}
		if kind == "squashfs" {
			out, err := exec.Command("mksquashfs", tree, filepath.Join(images, name+".raw"), "-comp", "zstd", "-quiet", "-noappend").CombinedOutput()
			if err != nil {
				b.Fatalf("mksquashfs: %v\n%s", err, out)
			}
		}
	}
	return root
}

// tmpfsDir returns a fresh directory on /dev/shm, removed after the
// benchmark, or under TMPDIR where there is no /dev/shm.
func tmpfsDir(b *testing.B) string {
	b.Helper()
	d, err := os.MkdirTemp("/dev/shm", "pg-bench-")
	if err != nil {
		return b.TempDir()
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// BenchmarkWrite measures output creation alone: a thousand images of
// three services, a socket and a timer (18 inodes each) into a tmpfs.
func BenchmarkWrite(b *testing.B) {
	profile := []byte(strings.Repeat("# a profile line of typical length, for size\n", 60))
	var files []File
	for i := 0; i < 1000; i++ {
		img := fmt.Sprintf("app%04d", i)
		for _, u := range []string{img + ".service", img + "-api.service", img + "-worker.service", img + ".socket", img + "-worker.timer"} {
			if strings.HasSuffix(u, ".service") {
				files = append(files, File{Image: img, Path: u + ".d/10-profile.conf", Data: profile})
			}
			files = append(files, File{Image: img, Path: u + ".d/20-portable.conf", Data: profile[:400]})
		}
		for _, u := range []string{img + ".service", img + "-api.service", img + "-worker.service", img + ".socket", img + "-worker.timer"} {
			files = append(files, File{Image: img, Path: u, Data: profile[:500]})
		}
	}
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(tmpfsDir(b), "normal")
		start := cpuTime()
		b.StartTimer()
		if err := Write(dir, files); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - start
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/image")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "cpu-µs/image")
}
