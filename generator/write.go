package generator

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write puts the files into dir in the order given. Each file is written
// under a temporary name and renamed into place, so a generator killed
// mid-way (PID 1 sends SIGTERM when its budget runs out) leaves whole files
// only; Plan orders each image's drop-ins before its unit files, so no unit
// ever appears without its sandbox.
func Write(dir string, files []File) error {
	for _, f := range files {
		if err := writeOne(dir, f); err != nil {
			return err
		}
	}
	return nil
}

func writeOne(dir string, f File) error {
	dst := filepath.Join(dir, f.Path)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if f.Link != "" {
		tmp := filepath.Join(filepath.Dir(dst), fmt.Sprintf(".#%s.%d", filepath.Base(dst), os.Getpid()))
		os.Remove(tmp)
		if err := os.Symlink(f.Link, tmp); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".#"+filepath.Base(dst)+".")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(f.Data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	ok = true
	return nil
}
