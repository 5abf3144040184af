// Command benchfloor measures the floor of a generator run for `just
// bench`: creating a given output tree alone, with the generator's own
// writer. It reads the tree at FROM into memory (not timed), writes it to
// TO (which must not exist), and prints the wall and CPU time of the
// writing as JSON.
//
//	benchfloor FROM TO
package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/portable-generator/portable-generator/generator"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchfloor FROM TO")
		os.Exit(2)
	}
	files, err := readTree(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", err)
		os.Exit(1)
	}
	cpu0, start := cpuTime(), time.Now()
	if err := generator.Write(os.Args[2], files); err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", err)
		os.Exit(1)
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	json.NewEncoder(os.Stdout).Encode(map[string]any{"files": len(files), "wall_ns": wall.Nanoseconds(), "cpu_ns": cpu.Nanoseconds()})
}

// readTree turns a generator output tree back into the files Write takes,
// each unit's files grouped as one image's (the unit name up to its
// drop-in directory), as the generator groups them.
func readTree(dir string) ([]generator.File, error) {
	var files []generator.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		group, _, _ := strings.Cut(rel, "/")
		f := generator.File{Image: strings.TrimSuffix(group, ".d"), Path: rel}
		if d.Type()&fs.ModeSymlink != 0 {
			f.Link, err = os.Readlink(p)
		} else {
			f.Data, err = os.ReadFile(p)
		}
		files = append(files, f)
		return err
	})
	return files, err
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
