package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// readOp is one read system call of the generator on an image.
type readOp struct {
	call string // "pread64", "read" or "getdents64"
	path string
	len  int
	off  int64
}

// The calls of `strace -f -y -s0 -e trace=pread64,read,getdents64`, whole
// or resumed after another thread's line.
var (
	callStart = regexp.MustCompile(`^(\d+) +(pread64|read|getdents64)\(\d+<([^>]*)>, (.*)$`)
	resumed   = regexp.MustCompile(`^(\d+) +<\.\.\. (pread64|read|getdents64) resumed>(.*)$`)
	preadTail = regexp.MustCompile(`, (\d+), (\d+)\) += (-?\d+)`)
	readTail  = regexp.MustCompile(`, (\d+)\) += (-?\d+)`)
)

// parseTrace returns the reads of files under the image directory (the
// first path component below it names the image), grouped per image in
// the order the images were first read.
func parseTrace(file, under string) ([][]readOp, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pending := map[string]readOp{} // by pid: a call another thread's line interrupted
	byImage := map[string]int{}
	var images [][]readOp
	add := func(op readOp, tail string) {
		switch op.call {
		case "pread64":
			m := preadTail.FindStringSubmatch(tail)
			if m == nil || m[3] == "-1" {
				return
			}
			op.len, _ = strconv.Atoi(m[1])
			op.off, _ = strconv.ParseInt(m[2], 10, 64)
		default:
			m := readTail.FindStringSubmatch(tail)
			if m == nil || m[2] == "-1" {
				return
			}
			op.len, _ = strconv.Atoi(m[1])
		}
		rel, ok := imageRelative(op.path, under)
		if !ok {
			return
		}
		op.path = under + "/" + rel
		image, _, _ := strings.Cut(rel, "/")
		i, ok := byImage[image]
		if !ok {
			i = len(images)
			byImage[image] = i
			images = append(images, nil)
		}
		images[i] = append(images[i], op)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := callStart.FindStringSubmatch(line); m != nil {
			op := readOp{call: m[2], path: m[3]}
			if strings.HasSuffix(m[4], "<unfinished ...>") {
				pending[m[1]] = op
				continue
			}
			add(op, m[4])
		} else if m := resumed.FindStringSubmatch(line); m != nil {
			if op, ok := pending[m[1]]; ok && op.call == m[2] {
				delete(pending, m[1])
				add(op, m[3])
			}
		}
	}
	return images, sc.Err()
}

// imageRelative is the path below the image directory. strace names
// files as its own mount namespace sees them, and the traced generator
// may run in another (the container's, with a benchmark set bound over
// the image directory): a path may then show the set's directory instead.
func imageRelative(p, under string) (string, bool) {
	if i := strings.Index(p, under+"/"); i >= 0 {
		return p[i+len(under)+1:], true
	}
	if i := strings.Index(p, "/sets/set-"); i >= 0 {
		if _, rest, ok := strings.Cut(p[i+len("/sets/set-"):], "/"); ok {
			return rest, true
		}
	}
	return "", false
}

// replay repeats the reads of a traced generator run, each image's in its
// order by one worker, jobs workers at a time: the cost of the same reads
// with nothing else done.
func replay(trace string, jobs int) (any, error) {
	images, err := parseTrace(trace, "/var/lib/portables")
	if err != nil {
		return nil, err
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("%s: no reads of images", trace)
	}
	var ops, bytes, reread int64
	for _, img := range images {
		for _, op := range img {
			ops++
			bytes += int64(op.len)
		}
		reread += rereadBytes(img)
	}
	w := startWatch()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan []readOp)
	)
	for j := 0; j < jobs; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for img := range next {
				if err := replayImage(img, buf); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, img := range images {
		next <- img
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return struct {
		timing
		Images int   `json:"images"`
		Ops    int64 `json:"reads"`
		Bytes  int64 `json:"bytes"`
		Reread int64 `json:"reread_bytes"`
		Jobs   int   `json:"jobs"`
	}{w.stop(), len(images), ops, bytes, reread, jobs}, nil
}

// rereadBytes counts the bytes of an image's positional reads that an
// earlier read of the same file already covered.
func rereadBytes(ops []readOp) int64 {
	seen := map[string][][2]int64{} // per file, the stretches read so far
	var n int64
	for _, op := range ops {
		if op.call != "pread64" {
			continue
		}
		start, end := op.off, op.off+int64(op.len)
		for _, r := range seen[op.path] {
			if lo, hi := max(start, r[0]), min(end, r[1]); lo < hi {
				n += hi - lo
			}
		}
		seen[op.path] = append(seen[op.path], [2]int64{start, end})
	}
	return n
}

// replayImage does one image's reads: positional reads at their offsets,
// plain reads from where the last one ended, and a directory listing for
// each run of getdents64 calls.
func replayImage(ops []readOp, buf []byte) error {
	fds := map[string]int{}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	open := func(p string, flags int) (int, error) {
		if fd, ok := fds[p]; ok {
			return fd, nil
		}
		fd, err := unix.Open(p, flags|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: p, Err: err}
		}
		fds[p] = fd
		return fd, nil
	}
	for i, op := range ops {
		if op.len > len(buf) {
			buf = make([]byte, op.len)
		}
		switch op.call {
		case "pread64":
			fd, err := open(op.path, 0)
			if err != nil {
				return err
			}
			unix.Pread(fd, buf[:op.len], op.off)
		case "read":
			fd, err := open(op.path, 0)
			if err != nil {
				return err
			}
			unix.Read(fd, buf[:op.len])
		case "getdents64":
			if i > 0 && ops[i-1].call == "getdents64" && ops[i-1].path == op.path {
				continue
			}
			if _, err := os.ReadDir(op.path); err != nil {
				return err
			}
		}
	}
	return nil
}
