package generator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeTestFiles(images int) []File {
	var files []File
	for i := 0; i < images; i++ {
		img := fmt.Sprintf("img%d", i)
		u := img + ".service"
		files = append(files,
			File{Image: img, Path: u + ".d/10-profile.conf", Data: []byte("[Service]\nDynamicUser=yes\n")},
			File{Image: img, Path: u + ".d/20-portable.conf", Data: []byte("[Unit]\nSourcePath=/x\n")},
			File{Image: img, Path: u, Data: []byte("[Service]\nExecStart=/bin/" + img + "\n")},
			File{Image: img, Path: "multi-user.target.wants/" + u, Link: "../" + u},
		)
	}
	return append(files, File{Path: "portable-generator-late.service.d/own.conf", Data: []byte("x\n")})
}

// TestWrite: every file lands whole with mode 0644 whatever the umask,
// symlinks are written as given, directories are shared by images, and no
// temporary name is left behind.
func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "normal") // Write makes it
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	files := writeTestFiles(50)
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if f.Link != "" {
			if got, err := os.Readlink(p); err != nil || got != f.Link {
				t.Errorf("%s -> %q, %v; want -> %s", f.Path, got, err, f.Link)
			}
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", f.Path, fi.Mode())
		}
		if b, _ := os.ReadFile(p); string(b) != string(f.Data) {
			t.Errorf("%s: %q, want %q", f.Path, b, f.Data)
		}
	}
	var n int
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if strings.HasPrefix(filepath.Base(p), ".#") {
			t.Errorf("temporary file left: %s", p)
		}
		n++
		return nil
	})
	// 50 images: unit, drop-in dir, two drop-ins, link; plus the wants
	// directory, the late unit's drop-in directory and file, and the output
	// directory.
	if want := 50*5 + 4; n != want {
		t.Errorf("%d inodes, want %d", n, want)
	}
}

// TestWriteReplaces: a second run over the same directory replaces every
// file and link, and a temporary file a killed run of a process with the
// same pid left is no obstacle.
func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	files := writeTestFiles(3)
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "img0.service.d", fmt.Sprintf(".#10-profile.conf.%d", os.Getpid()))
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if files[i].Link == "" {
			files[i].Data = append([]byte("v2 "), files[i].Data...)
		} else {
			files[i].Link += ".v2"
		}
	}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "img0.service.d/10-profile.conf")); !strings.HasPrefix(string(b), "v2 ") {
		t.Errorf("not replaced: %q", b)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "multi-user.target.wants/img2.service")); l != "../img2.service.v2" {
		t.Errorf("link not replaced: %q", l)
	}
	if _, err := os.Lstat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
}

// TestWriteError: an output path that cannot be a directory is an error
// naming it, not a panic or a partial silence.
func TestWriteError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "img0.service.d"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(dir, writeTestFiles(2))
	if err == nil || !strings.Contains(err.Error(), "img0.service.d") {
		t.Fatalf("err = %v, want one naming img0.service.d", err)
	}
}

// TestWriteBeneath: nothing is ever created outside the output directory,
// whatever the path asks for or a planted symlink points at.
func TestWriteBeneath(t *testing.T) {
	outside := t.TempDir()
	for _, p := range []string{
		"../escape.service", "/etc/escape.service", "multi-user.target.wants/../../escape.service",
		"a.service.d/x/y.conf", "escape", ".service", "x.service.d/.conf", "x.service.d/../y.conf",
		"multi-user.target.wants/" + outside + "/x.service", "x.service.d/evil",
	} {
		dir := t.TempDir()
		err := Write(dir, []File{{Image: "x", Path: p, Data: []byte("x")}})
		if !errors.Is(err, ErrBadOutputPath) {
			t.Errorf("%q: err = %v, want ErrBadOutputPath", p, err)
		}
	}
	// A symlink where a directory should be is not followed.
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "img0.service.d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "multi-user.target.wants")); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, writeTestFiles(1)); err == nil {
		t.Error("wrote through a planted symlink")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("files outside the output directory: %v", ents)
	}
}

// TestDropInsBeneath: in a run's output, where drop-ins are created
// under their own names (see writer.direct), a symlink planted where a
// drop-in directory should be is not followed either, and the drop-ins
// written are whole, with mode 0644 whatever the umask.
func TestDropInsBeneath(t *testing.T) {
	outside := t.TempDir()
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "img0.service.d")); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	w, err := openOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.noReplace = true
	d := w.newDirs()
	files := writeTestFiles(2)
	if err := w.run(files[:4], d); err == nil {
		t.Error("wrote img0's drop-ins through a planted symlink")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("files outside the output directory: %v", ents)
	}
	if err := w.run(files[4:8], d); err != nil {
		t.Fatal(err)
	}
	for _, f := range files[4:6] {
		fi, err := os.Lstat(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, f.Path)); string(data) != string(f.Data) || fi.Mode() != 0o644 {
			t.Errorf("%s: %q, mode %v", f.Path, data, fi.Mode())
		}
	}
	// A second run's drop-in is never written over the first's.
	if err := w.run(files[4:5], d); err == nil || !strings.Contains(err.Error(), "another generator") {
		t.Errorf("err = %v, want one saying another generator wrote it", err)
	}
}
