//go:build integration

package integration

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// benchKinds are dealt out round-robin, so every N has the same mix.
var benchKinds = []string{"squashfs-xz", "squashfs-zstd", "erofs", "ext4", "gpt-verity", "directory"}

// benchImage is one image of the benchmark, as its entry in a set.
type benchImage struct {
	Name  string // the image NAME (its units' prefix)
	Kind  string
	Entry string // file or directory name in the search directory
}

func (b benchImage) raw() bool { return b.Kind != "directory" }

// benchImages names the first n images of the mix.
func benchImages(n int) []benchImage {
	out := make([]benchImage, n)
	for i := range out {
		name := fmt.Sprintf("app%04d", i)
		kind := benchKinds[i%len(benchKinds)]
		entry := name + "_1.raw"
		if kind == "directory" {
			entry = name + "_1"
		}
		out[i] = benchImage{Name: name, Kind: kind, Entry: entry}
	}
	return out
}

// benchUnits are the image's five units: three services, a socket and a
// timer, written as a packager would, with nothing the default profile
// refuses.
func benchUnits(name string) map[string]string {
	service := func(what, exec string) string {
		return fmt.Sprintf(`[Unit]
Description=%[1]s %[2]s
Documentation=https://example.com/%[1]s/%[2]s
After=network.target

[Service]
Type=simple
ExecStart=/opt/app/bin/counter %[3]s
Restart=on-failure
RestartSec=2s
Environment=APP_NAME=%[1]s APP_ROLE=%[2]s
LimitNOFILE=4096
TimeoutStopSec=10s

[Install]
WantedBy=multi-user.target
`, name, what, exec)
	}
	return map[string]string{
		name + ".service":        service("main", "--serve"),
		name + "-api.service":    service("api", "--api --port 8080"),
		name + "-worker.service": service("worker", "--work"),
		name + ".socket":         fmt.Sprintf("[Unit]\nDescription=%s socket\n\n[Socket]\nListenStream=/run/%s.sock\nSocketMode=0660\n\n[Install]\nWantedBy=sockets.target\n", name, name),
		name + "-worker.timer":   fmt.Sprintf("[Unit]\nDescription=%s worker, hourly\n\n[Timer]\nOnCalendar=hourly\nRandomizedDelaySec=5m\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n", name),
	}
}

// benchBuilder makes the images. The payload (a real binary and a few MB
// of data) is compressed once per compressor into a base squashfs; each
// squashfs image is a copy of its base with the image's own /usr appended
// (mksquashfs rewrites the tables and adds only the new files), which
// keeps a thousand distinct images cheap to make. The other kinds are
// built whole from the merged tree.
type benchBuilder struct {
	tmp  string // scratch space
	base string // the payload tree: /opt/app, /etc, the mount points
	sq   map[string]string
}

func newBenchBuilder(tmp, counterBinary string) (*benchBuilder, error) {
	b := &benchBuilder{tmp: tmp, base: filepath.Join(tmp, "base"), sq: map[string]string{}}
	for _, d := range []string{"opt/app/bin", "opt/app/share/doc", "etc", "proc", "sys", "dev", "run", "tmp", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(b.base, d), 0o755); err != nil {
			return nil, err
		}
	}
	bin, err := os.ReadFile(counterBinary)
	if err != nil {
		return nil, err
	}
	// Data that compresses as real data does, about 3:1.
	rng := rand.New(rand.NewSource(1))
	words := strings.Fields("the quick brown fox jumps over a lazy dog portable service image unit socket timer generator systemd")
	var data strings.Builder
	for data.Len() < 2<<20 {
		data.WriteString(words[rng.Intn(len(words))])
		data.WriteByte(" \n"[rng.Intn(2)])
		fmt.Fprintf(&data, "%x", rng.Uint32())
	}
	files := map[string][]byte{
		"opt/app/bin/counter":  bin,
		"opt/app/share/data":   []byte(data.String()),
		"etc/resolv.conf":      nil,
		"etc/machine-id":       nil,
		"opt/app/share/README": []byte("counter, as packaged for the benchmark\n"),
	}
	for i := 0; i < 20; i++ {
		files[fmt.Sprintf("opt/app/share/doc/page%02d.txt", i)] = []byte(strings.Repeat(fmt.Sprintf("page %d\n", i), 200))
	}
	for p, c := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "opt/app/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(b.base, p), c, mode); err != nil {
			return nil, err
		}
	}
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(b.base, "etc/os-release")); err != nil {
		return nil, err
	}
	for _, comp := range []string{"xz", "zstd"} {
		b.sq[comp] = filepath.Join(tmp, "base."+comp)
		if err := runTool("mksquashfs", b.base, b.sq[comp], "-comp", comp, "-quiet", "-noappend", "-all-root", "-no-progress"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func runTool(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// own writes the image's /usr: os-release and the units.
func (b *benchBuilder) own(img benchImage, dir string) error {
	units := filepath.Join(dir, "usr/lib/systemd/system")
	if err := os.MkdirAll(units, 0o755); err != nil {
		return err
	}
	osr := fmt.Sprintf("ID=benchos\nNAME=\"Bench OS\"\nVERSION_ID=1\nPRETTY_NAME=\"Bench OS 1 (%s)\"\nIMAGE_ID=%s\nIMAGE_VERSION=1\n", img.Kind, img.Name)
	if err := os.WriteFile(filepath.Join(dir, "usr/lib/os-release"), []byte(osr), 0o644); err != nil {
		return err
	}
	for u, c := range benchUnits(img.Name) {
		if err := os.WriteFile(filepath.Join(units, u), []byte(c), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// appendedSquashfs copies the base of one compressor to dst and appends
// the image's own files.
func (b *benchBuilder) appendedSquashfs(img benchImage, comp, dst, scratch string) error {
	own := filepath.Join(scratch, "own")
	if err := b.own(img, own); err != nil {
		return err
	}
	if err := runTool("cp", "--reflink=auto", b.sq[comp], dst); err != nil {
		return err
	}
	return runTool("mksquashfs", own, dst, "-quiet", "-all-root", "-no-progress", "-no-recovery")
}

// build makes one image at dst.
func (b *benchBuilder) build(img benchImage, dst string) error {
	scratch, err := os.MkdirTemp(b.tmp, img.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	merged := func() (string, error) {
		tree := filepath.Join(scratch, "tree")
		if err := runTool("cp", "-al", b.base, tree); err != nil {
			return "", err
		}
		return tree, b.own(img, tree)
	}
	switch img.Kind {
	case "squashfs-xz":
		return b.appendedSquashfs(img, "xz", dst, scratch)
	case "squashfs-zstd":
		return b.appendedSquashfs(img, "zstd", dst, scratch)
	case "erofs":
		tree, err := merged()
		if err != nil {
			return err
		}
		return runTool("mkfs.erofs", "--all-root", dst, tree)
	case "ext4":
		tree, err := merged()
		if err != nil {
			return err
		}
		if err := runTool("truncate", "-s", "8M", dst); err != nil {
			return err
		}
		return runTool("mkfs.ext4", "-q", "-L", "root", "-d", tree, dst)
	case "gpt-verity":
		sq := filepath.Join(scratch, "root.squashfs")
		if err := b.appendedSquashfs(img, "zstd", sq, scratch); err != nil {
			return err
		}
		defs := filepath.Join(scratch, "defs")
		if err := os.Mkdir(defs, 0o755); err != nil {
			return err
		}
		conf := map[string]string{
			"10-root.conf":   "[Partition]\nType=root\nCopyBlocks=" + sq + "\nVerity=data\nVerityMatchKey=root\n",
			"20-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n",
		}
		for f, c := range conf {
			if err := os.WriteFile(filepath.Join(defs, f), []byte(c), 0o644); err != nil {
				return err
			}
		}
		return runTool("systemd-repart", "--empty=create", "--size=auto", "--definitions="+defs, "--dry-run=no", "--json=off", dst)
	case "directory":
		tree, err := merged()
		if err != nil {
			return err
		}
		return os.Rename(tree, dst)
	}
	return fmt.Errorf("unknown kind %s", img.Kind)
}

// buildAll makes images into dir, two at a time (this machine has two
// cores and mksquashfs and repart use them).
func (b *benchBuilder) buildAll(dir string, imgs []benchImage) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan benchImage)
	)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for img := range next {
				if err := b.build(img, filepath.Join(dir, img.Entry)); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s (%s): %w", img.Entry, img.Kind, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, img := range imgs {
		next <- img
	}
	close(next)
	wg.Wait()
	return firstErr
}

// linkSet fills dir with hard links to the first images of all: the same
// inodes as the largest set, so every set reads the same bytes.
func linkSet(all, dir string, imgs []benchImage) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, img := range imgs {
		src, dst := filepath.Join(all, img.Entry), filepath.Join(dir, img.Entry)
		if img.raw() {
			if err := os.Link(src, dst); err != nil {
				return err
			}
		} else if err := runTool("cp", "-al", src, dst); err != nil {
			return err
		}
	}
	return nil
}

// diskUsage returns the apparent and allocated bytes of the entries.
func diskUsage(dir string, imgs []benchImage) (apparent, allocated int64) {
	for _, img := range imgs {
		filepath.Walk(filepath.Join(dir, img.Entry), func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				apparent += fi.Size()
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					allocated += st.Blocks * 512
				}
			}
			return nil
		})
	}
	return apparent, allocated
}
