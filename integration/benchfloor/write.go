package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/portable-generator/portable-generator/generator"
)

// writeFloor reads the output tree at from into memory (not timed) and
// writes it to to (which must not exist) with the generator's writer: the
// floor of creating the output alone.
func writeFloor(from, to string) (any, error) {
	files, err := readTree(from)
	if err != nil {
		return nil, err
	}
	w := startWatch()
	if err := generator.Write(to, files); err != nil {
		return nil, err
	}
	return struct {
		timing
		Files int `json:"files"`
	}{w.stop(), len(files)}, nil
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
