package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/internal/loopdev"
	"golang.org/x/sys/unix"
)

// listed is one image of a LIST file.
type listed struct {
	kind, name, path string
	root             dissect.Partition // the file system to mount (loop only)
}

func readList(file string) ([]listed, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var imgs []listed
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s: bad line %q", file, sc.Text())
		}
		imgs = append(imgs, listed{kind: fields[0], name: fields[1], path: fields[2]})
	}
	return imgs, sc.Err()
}

// kindTime is the time one pass spent on the images of one kind.
type kindTime struct {
	Images int   `json:"images"`
	Wall   int64 `json:"wall_ns"`
	// Decompressed is what our readers decompressed, by their own count
	// (dissect's Stats: a block counts its full size, but for a gzip or
	// xz fragment block, which counts as far as it was decoded).
	Decompressed int64 `json:"decompressed_bytes"`
}

// readPass does, one image after the other, what the generator reads from
// each: the os-release, the listing of every unit directory and the units
// named after the image; "ours" with package dissect, "loop" through the
// kernel as portabled and PID 1 do it (a read-only loop device at the file
// system's offset, a mount, the reads, the unmount; a directory is read
// as it is).
func readPass(mode, list string) (any, error) {
	imgs, err := readList(list)
	if err != nil {
		return nil, err
	}
	var mnt string
	if mode == "loop" {
		if mnt, err = os.MkdirTemp("", "benchfloor-mnt-"); err != nil {
			return nil, err
		}
		defer os.Remove(mnt)
		// Where the file system lies is found before the clock starts:
		// the kernel's way is timed from the loop device on.
		for i := range imgs {
			if imgs[i].kind == "directory" {
				continue
			}
			d, err := dissect.Open(imgs[i].path)
			if err != nil {
				return nil, err
			}
			imgs[i].root = d.Partitions[0]
			if d.PartitionTable == "" {
				imgs[i].root.Offset, imgs[i].root.Size = 0, 0
			}
			d.Close()
		}
	}
	kinds := map[string]*kindTime{}
	w := startWatch()
	for _, img := range imgs {
		start := time.Now()
		var decompressed int64
		switch {
		case mode == "ours":
			decompressed, err = readOurs(img)
		case img.kind == "directory":
			err = readJob(os.DirFS(img.path), img.name)
		default:
			err = readLoop(img, mnt)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", img.path, err)
		}
		k := kinds[img.kind]
		if k == nil {
			k = &kindTime{}
			kinds[img.kind] = k
		}
		k.Images++
		k.Wall += time.Since(start).Nanoseconds()
		k.Decompressed += decompressed
	}
	return struct {
		timing
		Kinds map[string]*kindTime `json:"kinds"`
	}{w.stop(), kinds}, nil
}

// readOurs reads the image with package dissect and returns how many
// bytes the readers decompressed.
func readOurs(img listed) (int64, error) {
	d, err := dissect.Open(img.path)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if _, _, _, err := d.OSRelease(); err != nil {
		return 0, err
	}
	err = readJob(d.FS(), img.name)
	return d.Stats().Decompressed, err
}

// readJob reads the os-release and the image's units from a tree.
func readJob(fsys fs.FS, name string) error {
	found := false
	for _, p := range dissect.OSReleasePaths {
		if _, err := fs.ReadFile(fsys, p); err == nil {
			found = true
			break
		}
	}
	if !found {
		return errors.New("no os-release")
	}
	units := 0
	for _, dir := range dissect.UnitDirectories {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			rest, ok := strings.CutPrefix(e.Name(), name)
			if !ok || rest == "" || !strings.ContainsRune("-.@", rune(rest[0])) {
				continue
			}
			if _, err := fs.ReadFile(fsys, path.Join(dir, e.Name())); err != nil {
				return err
			}
			units++
		}
	}
	if units == 0 {
		return errors.New("no units")
	}
	return nil
}

func readLoop(img listed, mnt string) error {
	backing, err := os.Open(img.path)
	if err != nil {
		return err
	}
	defer backing.Close()
	loop, dev, err := loopdev.Attach(backing, uint64(img.root.Offset), uint64(img.root.Size))
	if err != nil {
		return err
	}
	defer loop.Close() // auto-clear detaches the device
	if err := unix.Mount(dev, mnt, img.root.FSType, unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOSUID, ""); err != nil {
		return fmt.Errorf("mount %s (%s): %w", dev, img.root.FSType, err)
	}
	rerr := readJob(os.DirFS(mnt), img.name)
	if err := unix.Unmount(mnt, 0); err != nil {
		return err
	}
	return rerr
}

// pipelinePass reads every image of the list with our readers on jobs
// workers, as the generator's pipeline does, and with ahead > 0 prefetches
// (dissect.Prefetch) that many images ahead of the next one handed out.
func pipelinePass(list string, jobs, ahead int) (any, error) {
	imgs, err := readList(list)
	if err != nil {
		return nil, err
	}
	w := startWatch()
	next := make(chan listed)
	errs := make(chan error, len(imgs))
	var prefetched chan struct{}
	if ahead > 0 {
		// The prefetcher runs at most ahead images in front: each image
		// handed out lets it go one further.
		prefetched = make(chan struct{}, ahead)
		for i := 0; i < ahead; i++ {
			prefetched <- struct{}{}
		}
		go func() {
			for _, img := range imgs {
				<-prefetched
				if img.kind != "directory" {
					dissect.Prefetch(img.path)
				}
			}
		}()
	}
	for j := 0; j < jobs; j++ {
		go func() {
			for img := range next {
				_, err := readOurs(img)
				errs <- err
			}
		}()
	}
	for _, img := range imgs {
		next <- img
		if prefetched != nil {
			prefetched <- struct{}{}
		}
	}
	close(next)
	for range imgs {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	return w.stop(), nil
}
