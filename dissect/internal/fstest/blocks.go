package fstest

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// GoTreeBlocks cuts the files of the Go toolchain's own source tree, read
// in lexical order and put end to end, into n blocks of size bytes: real
// text and binaries packed as a squashfs fragment block packs a package
// tree's small files, and the same wherever the same Go builds the test.
// It returns fewer blocks if the tree holds less.
func GoTreeBlocks(t testing.TB, size, n int) [][]byte {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	var all []byte
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(all) >= size*n {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			all = append(all, data...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]byte
	for len(all) >= size && len(blocks) < n {
		blocks = append(blocks, all[:size])
		all = all[size:]
	}
	return blocks
}

// BenchCommand runs a reference decoder, the command name with args, over
// input (repeated eight times: see below) once per iteration, and checks
// that it writes eight times want bytes. Besides the wall time (a process
// start and the pipes included), it reports the throughput by the
// command's own user CPU time, which is its decoding: "user-MB/s". The
// kernel splits a process's CPU time between user and system by clock
// ticks: the repeats make each run last enough ticks.
func BenchCommand(b *testing.B, input []byte, want int, name string, args ...string) {
	b.Helper()
	testenv.NeedTool(b, name)
	const repeat = 8
	input = bytes.Repeat(input, repeat)
	var user time.Duration
	b.SetBytes(int64(repeat * want))
	for range b.N {
		cmd := exec.Command(name, args...)
		cmd.Stdin = bytes.NewReader(input)
		out, err := cmd.Output()
		if err != nil || len(out) != repeat*want {
			b.Fatalf("%s %v: %d bytes, %v", name, args, len(out), err)
		}
		user += cmd.ProcessState.UserTime()
	}
	b.ReportMetric(float64(repeat*want)*float64(b.N)/1e6/user.Seconds(), "user-MB/s")
}

// BenchDecode decodes streams, one per block of blocks, with decode once
// per iteration, and checks that each gives its block back. decode writes
// into dst, as long as a block, and returns how much it wrote.
func BenchDecode(b *testing.B, blocks, streams [][]byte, decode func(dst, src []byte) (int, error)) {
	b.Helper()
	out := make([]byte, len(blocks[0]))
	b.SetBytes(int64(len(blocks) * len(out)))
	for range b.N {
		for i, s := range streams {
			if n, err := decode(out, s); err != nil || !bytes.Equal(out[:n], blocks[i]) {
				b.Fatalf("block %d: %d bytes, %v", i, n, err)
			}
		}
	}
}
