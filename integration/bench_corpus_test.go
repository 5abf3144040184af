//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusDir holds the benchmark's images, on an XFS file system (with
// reflinks, so that images share their bases' extents) kept in the file
// corpusDir+".xfs", sparse: it takes the disk its contents take.
const corpusDir = "/var/cache/portable-generator/bench-corpus"

// mountCorpus mounts the corpus file system (making it the first time)
// and returns its block device. The loop device does direct I/O on the
// backing file, so that the page cache holds the images' pages once.
func mountCorpus() (string, error) {
	if dev := mountedDevice(corpusDir); dev != "" {
		return dev, nil
	}
	img := corpusDir + ".xfs"
	if _, err := os.Stat(img); err != nil {
		if err := runTool("truncate", "-s", "400G", img+".tmp"); err != nil {
			return "", err
		}
		if err := runTool("mkfs.xfs", "-q", "-m", "reflink=1", img+".tmp"); err != nil {
			return "", err
		}
		if err := os.Rename(img+".tmp", img); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		return "", err
	}
	out, err := exec.Command("losetup", "-f", "--show", "--direct-io=on", img).Output()
	if err != nil {
		return "", fmt.Errorf("losetup %s: %w", img, err)
	}
	dev := strings.TrimSpace(string(out))
	if err := runTool("mount", "-t", "xfs", dev, corpusDir); err != nil {
		runTool("losetup", "-d", dev)
		return "", err
	}
	return dev, nil
}

// mountedDevice is the device mounted at dir, "" if none.
func mountedDevice(dir string) string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 2 && fields[1] == dir {
			return fields[0]
		}
	}
	return ""
}

// TestBenchCorpus builds the first PG_BENCH_CORPUS images of the corpus
// and nothing else (for building it ahead of a `just bench`).
func TestBenchCorpus(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PG_BENCH_CORPUS"))
	if n < 1 {
		t.Skip("builds the benchmark corpus with PG_BENCH_CORPUS=N")
	}
	if _, err := buildCorpus(n); err != nil {
		t.Fatal(err)
	}
}

// buildCorpus makes the package trees and the first n images.
func buildCorpus(n int) (*benchBuilder, error) {
	out, err := exec.Command("bash", "bench-trees.sh").Output()
	if err != nil {
		return nil, fmt.Errorf("bench-trees.sh: %w", err)
	}
	if _, err := mountCorpus(); err != nil {
		return nil, err
	}
	b, err := newBenchBuilder(strings.TrimSpace(string(out)), corpusDir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	err = b.buildAll(benchImages(n), func(done, total int) {
		fmt.Printf("bench: built %d of %d images (%s)\n", done, total, time.Since(start).Round(time.Second))
	})
	return b, err
}
