package generator

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate measures a whole run (scan, dissect, plan, write) over
// 100 images of five units each, as directories and as squashfs files. The
// output goes to a fresh directory under TMPDIR each time; point TMPDIR at a
// tmpfs to measure what /run/systemd/generator costs. integration/bench
// measures the thousand-image target against systemd's own tools.
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

// benchRoot builds a --root with n images of one kind in /var/lib/portables.
func benchRoot(b *testing.B, kind string, n int) string {
	b.Helper()
	if kind == "squashfs" {
		if _, err := exec.LookPath("mksquashfs"); err != nil {
			b.Skip("mksquashfs not installed")
		}
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
