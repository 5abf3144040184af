package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"golang.org/x/sys/unix"
)

// Write puts the files into dir. Each file is written under a temporary
// name and renamed into place, so a generator killed mid-way (PID 1 sends
// SIGTERM when its budget runs out) leaves whole files only (a run's own
// output, written by the stream, creates drop-ins under their own names:
// see writer.direct). Images are written in parallel, but each image's
// files by one worker in the order given: plan puts an image's drop-ins
// before its unit files, so no unit ever appears without its sandbox.
//
// Nothing is ever created outside dir, by construction: every path is
// checked to have the shape of generator output (a unit name, U.d/NAME.conf
// or T.wants/U, see outputPath) before it is used, and directories are
// opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) relative to dir,
// so neither a bad name nor a symlink planted in the output directory can
// lead a write elsewhere.
//
// Output creation is most of a large run (a thousand images are some
// 18,000 inodes), so each file costs four system calls (open, write,
// close, rename, relative to its directory's descriptor), and nothing is
// synced: the output lives on a tmpfs and is made anew at every run.
func Write(dir string, files []File) error {
	w, err := openOutput(dir)
	if err != nil {
		return err
	}
	defer w.close()
	return w.parallel(imageRuns(files))
}

// ErrBadOutputPath is a file name that is not generator output.
var ErrBadOutputPath = errors.New("not a generator output path")

// outputPath checks that p has the shape of what a generator writes: a
// unit name (a unit, an alias), or one directory level of U.d/ (holding
// NAME.conf drop-ins) or U.wants/, U.requires/, U.upholds/ (holding unit
// names), with U a valid unit name. Such a path has no empty, "." or ".."
// component and cannot leave the output directory.
func outputPath(p string) error {
	dir, file, nested := strings.Cut(p, "/")
	if !nested {
		if names.ValidAnyUnitName(p) {
			return nil
		}
		return fmt.Errorf("%w: %q", ErrBadOutputPath, p)
	}
	switch {
	case strings.Contains(file, "/"):
	case strings.HasSuffix(dir, ".d") && names.ValidAnyUnitName(strings.TrimSuffix(dir, ".d")) && validDropInName(file):
		return nil
	case hasDependencySuffix(dir) && names.ValidAnyUnitName(file):
		return nil
	}
	return fmt.Errorf("%w: %q", ErrBadOutputPath, p)
}

// splitOutputPath checks p (outputPath) and splits it into its directory
// below the output directory ("" for none) and its file name.
func splitOutputPath(p string) (dir, name string, err error) {
	if err := outputPath(p); err != nil {
		return "", "", err
	}
	if dir, name, ok := strings.Cut(p, "/"); ok {
		return dir, name, nil
	}
	return "", p, nil
}

func hasDependencySuffix(dir string) bool {
	for _, s := range []string{".wants", ".requires", ".upholds"} {
		if u, ok := strings.CutSuffix(dir, s); ok && names.ValidAnyUnitName(u) {
			return true
		}
	}
	return false
}

// validDropInName accepts NAME.conf made of plain file-name characters.
func validDropInName(f string) bool {
	base, ok := strings.CutSuffix(f, ".conf")
	if !ok || base == "" || base[0] == '.' {
		return false
	}
	for _, c := range []byte(base) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.@:", c) >= 0) {
			return false
		}
	}
	return true
}

// writer writes files beneath an open output directory.
type writer struct {
	dir    string // for error messages
	fd     int
	chmod  bool   // the umask would strip bits of 0644
	suffix string // of temporary names: unique per process, and each path is written by one worker
	// noReplace refuses to rename over a file that exists. The output
	// directory is emptied before every run, so what exists there was
	// written by another generator running beside us (systemd's
	// run-generator, ssh-generator, a package's): its unit is never
	// replaced by an image's.
	noReplace bool
}

func openOutput(dir string) (*writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &writer{dir: dir, fd: dfd, chmod: umaskStrips(0o644), suffix: "." + strconv.Itoa(os.Getpid())}, nil
}

func (w *writer) close() { unix.Close(w.fd) }

// imageRuns splits files into runs of consecutive files of one image.
func imageRuns(files []File) [][]File {
	var runs [][]File
	for i := 0; i < len(files); {
		j := i + 1
		for j < len(files) && files[j].Image == files[i].Image {
			j++
		}
		runs = append(runs, files[i:j])
		i = j
	}
	return runs
}

// parallel writes the runs with one worker per CPU (at most four: more
// only contend for the output directory's lock); the first error wins and
// stops the rest.
func (w *writer) parallel(runs [][]File) error {
	workers := min(runtime.NumCPU(), 4, len(runs))
	if workers <= 1 {
		dirs := w.newDirs()
		defer dirs.release()
		for _, r := range runs {
			if err := w.run(r, dirs); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan []File)
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs := w.newDirs()
			defer dirs.release()
			for r := range next {
				if err := w.run(r, dirs); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range runs {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- r
	}
	close(next)
	wg.Wait()
	return firstErr
}

// dirs are the subdirectories one worker has open while it writes one
// image, by name. The output directory itself is "". They are closed after
// each image (release): a run over 10,000 images has some 45,000 drop-in
// directories, far more descriptors than a process may hold.
type dirs struct {
	w   *writer
	fds map[string]int
}

func (w *writer) newDirs() *dirs { return &dirs{w: w, fds: map[string]int{"": w.fd}} }

// release closes the subdirectories opened so far.
func (d *dirs) release() {
	for name, fd := range d.fds {
		if name != "" {
			unix.Close(fd)
			delete(d.fds, name)
		}
	}
}

// open returns a descriptor of subdirectory name, making it if needed. It
// is opened beneath the output directory without following any symlink:
// a symlink planted where a directory should be is an error, not a way out.
func (d *dirs) open(name string) (int, error) {
	if fd, ok := d.fds[name]; ok {
		return fd, nil
	}
	if err := unix.Mkdirat(d.w.fd, name, 0o755); err != nil && err != unix.EEXIST {
		return -1, d.w.pathError("mkdir", name, err)
	}
	fd, err := openBeneath(d.w.fd, name)
	if err != nil {
		return -1, d.w.pathError("open", name, err)
	}
	d.fds[name] = fd
	return fd, nil
}

// openBeneath opens directory name below dfd with openat2's
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS; where the kernel or a seccomp filter
// lacks openat2, it opens with O_NOFOLLOW, which is the same for the one
// validated component it is given.
func openBeneath(dfd int, name string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
	fd, err := unix.Openat2(dfd, name, &how)
	if err == unix.ENOSYS || err == unix.EPERM {
		if strings.Contains(name, "/") {
			return -1, unix.EINVAL
		}
		return unix.Openat(dfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	return fd, err
}

func (w *writer) run(files []File, d *dirs) error {
	defer d.release()
	for _, f := range files {
		if err := w.one(f, d); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) pathError(op, p string, err error) error {
	return &os.PathError{Op: op, Path: path.Join(w.dir, p), Err: err}
}

// one writes a file or symlink under a temporary name in its directory
// and renames it into place; in the output of a run (noReplace), a drop-in
// is created under its own name (see direct).
func (w *writer) one(f File, d *dirs) error {
	dirName, name, err := splitOutputPath(f.Path)
	if err != nil {
		return err
	}
	dfd, err := d.open(dirName)
	if err != nil {
		return err
	}
	if w.noReplace && strings.HasSuffix(dirName, ".d") {
		return w.direct(dfd, dirName, name, f)
	}
	tmp := ".#" + name + w.suffix
	if err := w.create(dfd, tmp, f); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return w.pathError("create", path.Join(dirName, tmp), err)
	}
	if err := w.rename(dfd, tmp, name); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		if err == unix.EEXIST {
			return writtenByAnother(f.Path)
		}
		return w.pathError("rename", f.Path, err)
	}
	return nil
}

// direct creates drop-in name in directory dirName under its own name,
// never over a file of that name, without the rename a temporary name
// costs (a fifth of the system calls of a run). A drop-in is never seen
// half-written: it takes effect only with its unit, and plan puts every
// drop-in of a unit before the unit, which is renamed into place after
// them (a run killed while writing one leaves a drop-in of a unit that
// does not exist). The unit's names are the image's alone: the host
// holds none of them (host inventory), and another generator that wrote
// one first makes this fail (O_EXCL) as a rename would.
func (w *writer) direct(dfd int, dirName, name string, f File) error {
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err == unix.EEXIST {
		return writtenByAnother(f.Path)
	}
	if err == nil {
		if err = w.fill(fd, f); err != nil {
			unix.Unlinkat(dfd, name, 0) // ours: O_EXCL made it
		}
	}
	if err != nil {
		return w.pathError("create", path.Join(dirName, name), err)
	}
	return nil
}

// writtenByAnother is a file of a run's output that exists already: the
// output directory is emptied before every run, so another generator
// running beside us wrote it (noReplace).
func writtenByAnother(p string) error {
	return fmt.Errorf("%s exists already, written by another generator: %w", p, fs.ErrExist)
}

// rename puts tmp in place as name, without replacing a file of that name
// when noReplace is set (RENAME_NOREPLACE; where the file system lacks it,
// a check first, which leaves only a race with a generator writing the same
// name at the same moment).
func (w *writer) rename(dfd int, tmp, name string) error {
	if !w.noReplace {
		return unix.Renameat(dfd, tmp, dfd, name)
	}
	err := unix.Renameat2(dfd, tmp, dfd, name, unix.RENAME_NOREPLACE)
	if err != unix.EINVAL && err != unix.ENOSYS {
		return err
	}
	var st unix.Stat_t
	if unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
		return unix.EEXIST
	}
	return unix.Renameat(dfd, tmp, dfd, name)
}

func (w *writer) create(dfd int, tmp string, f File) error {
	for try := 0; ; try++ {
		err := w.createOnce(dfd, tmp, f)
		if err == unix.EEXIST && try == 0 {
			// Left by a killed run of a process with our pid: ours to replace.
			unix.Unlinkat(dfd, tmp, 0)
			continue
		}
		return err
	}
}

func (w *writer) createOnce(dfd int, tmp string, f File) error {
	if f.Link != "" {
		return unix.Symlinkat(f.Link, dfd, tmp)
	}
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return w.fill(fd, f)
}

// fill writes f's data into fd, a file just made, and closes it.
func (w *writer) fill(fd int, f File) error {
	for data := f.Data; len(data) > 0; {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return err
		}
		data = data[n:]
	}
	if w.chmod {
		if err := unix.Fchmod(fd, 0o644); err != nil {
			unix.Close(fd)
			return err
		}
	}
	return unix.Close(fd)
}

// remove takes the files at paths away again, in the reverse of the order they were
// written (links, units, then drop-ins), so that no unit is ever left
// without its drop-ins.
func (w *writer) remove(paths []string) error {
	d := w.newDirs()
	defer d.release()
	var firstErr error
	for i := len(paths) - 1; i >= 0; i-- {
		p := paths[i]
		dirName, name, err := splitOutputPath(p)
		if err != nil {
			return err
		}
		dfd, err := d.open(dirName)
		if err == nil {
			err = unix.Unlinkat(dfd, name, 0)
		}
		if err != nil && err != unix.ENOENT && firstErr == nil {
			firstErr = w.pathError("remove", p, err)
		}
	}
	return firstErr
}

// umaskStrips reports whether the process umask would take bits of mode
// away, read from /proc so that no other thread ever sees a changed
// umask; when it cannot be read, assume it does.
func umaskStrips(mode uint32) bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			mask, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			return err != nil || uint32(mask)&mode != 0
		}
	}
	return true
}
