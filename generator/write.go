package generator

import (
	"bytes"
	"os"
	"path"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Write puts the files into dir. Each file is written under a temporary
// name and renamed into place, so a generator killed mid-way (PID 1 sends
// SIGTERM when its budget runs out) leaves whole files only. Images are
// written in parallel, but each image's files by one worker in the order
// given: Plan puts an image's drop-ins before its unit files, so no unit
// ever appears without its sandbox.
//
// Output creation is most of a large run (a thousand images are some
// 18,000 inodes), so each file costs four system calls (open, write,
// close, rename, all relative to one directory descriptor), each worker
// makes a directory once (a directory two images share, such as
// multi-user.target.wants, is simply found made), and nothing is synced:
// the output lives on a tmpfs and is made anew at every boot and reload.
func Write(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	w := writer{dir: dir, fd: dfd, chmod: umaskStrips(0o644), suffix: "." + strconv.Itoa(os.Getpid())}
	return w.parallel(imageRuns(files))
}

// writer writes files relative to an open output directory.
type writer struct {
	dir    string // for error messages
	fd     int
	chmod  bool   // the umask would strip bits of 0644
	suffix string // of temporary names: unique per process, and each path is written by one worker
}

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
func (w writer) parallel(runs [][]File) error {
	workers := min(runtime.NumCPU(), 4, len(runs))
	if workers <= 1 {
		made := dirsMade{}
		for _, r := range runs {
			if err := w.run(r, made); err != nil {
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
			made := dirsMade{}
			for r := range next {
				if err := w.run(r, made); err != nil {
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

// dirsMade are the directories one worker has made or found.
type dirsMade map[string]bool

func (w writer) run(files []File, made dirsMade) error {
	for _, f := range files {
		if err := w.mkdir(path.Dir(f.Path), made); err != nil {
			return err
		}
		if err := w.one(f); err != nil {
			return err
		}
	}
	return nil
}

// mkdir makes directory d and its parents unless made already.
func (w writer) mkdir(d string, made dirsMade) error {
	if d == "." || made[d] {
		return nil
	}
	if err := w.mkdir(path.Dir(d), made); err != nil {
		return err
	}
	if err := unix.Mkdirat(w.fd, d, 0o755); err != nil && err != unix.EEXIST {
		return w.pathError("mkdir", d, err)
	}
	made[d] = true
	return nil
}

func (w writer) pathError(op, p string, err error) error {
	return &os.PathError{Op: op, Path: path.Join(w.dir, p), Err: err}
}

// one writes a file or symlink under a temporary name in its directory
// and renames it into place.
func (w writer) one(f File) error {
	tmp := path.Join(path.Dir(f.Path), ".#"+path.Base(f.Path)+w.suffix)
	if err := w.create(tmp, f); err != nil {
		unix.Unlinkat(w.fd, tmp, 0)
		return err
	}
	if err := unix.Renameat(w.fd, tmp, w.fd, f.Path); err != nil {
		unix.Unlinkat(w.fd, tmp, 0)
		return w.pathError("rename", f.Path, err)
	}
	return nil
}

func (w writer) create(tmp string, f File) error {
	for try := 0; ; try++ {
		err := w.createOnce(tmp, f)
		if err == unix.EEXIST && try == 0 {
			// Left by a killed run of a process with our pid: ours to replace.
			unix.Unlinkat(w.fd, tmp, 0)
			continue
		}
		if err != nil {
			return w.pathError("create", tmp, err)
		}
		return nil
	}
}

func (w writer) createOnce(tmp string, f File) error {
	if f.Link != "" {
		return unix.Symlinkat(f.Link, w.fd, tmp)
	}
	fd, err := unix.Openat(w.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
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
