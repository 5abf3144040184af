package host

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/names"
)

// Errors of entries that cannot be images.
var (
	ErrBadImageName        = errors.New("not a valid image name")
	ErrNoArchitectureEntry = errors.New("no entry for this architecture")
)

// Scan lists the image entries of every search directory under the root.
// Missing directories are normal and silent; a search directory that exists
// but cannot be listed comes back as a problem, and unusable entries come
// back with an Err so that list can say why.
//
// unread are the search directories that exist but could not be read:
// images there may exist and are not seen, so the run is incomplete.
func (r Root) Scan(arch string) (out []Entry, dirProblems, unread []string) {
	for rank, dir := range SearchDirs {
		fi, err := r.stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			dirProblems = append(dirProblems, fmt.Sprintf("search directory %s: %v", dir, unwrapPath(err)))
			unread = append(unread, dir)
			continue
		}
		if !fi.IsDir() {
			dirProblems = append(dirProblems, fmt.Sprintf("search directory %s is not a directory, ignored", dir))
			continue
		}
		var dirProblem error
		if err := r.CheckChain(dir); err != nil {
			dirProblem = fmt.Errorf("untrusted search directory: %w", err)
		}
		ents, err := r.readDir(dir)
		if err != nil {
			dirProblems = append(dirProblems, fmt.Sprintf("cannot list search directory %s, its images are not attached: %v", dir, unwrapPath(err)))
			unread = append(unread, dir)
			continue
		}
		scanned := make([][]Entry, len(ents))
		parallel(scanners, len(ents), func(i int) {
			if name := ents[i].Name(); !strings.HasPrefix(name, ".") {
				scanned[i] = r.scanEntry(rank, dir, name, arch)
			}
		})
		for _, es := range scanned {
			for i := range es {
				if dirProblem != nil && es[i].Err == nil && !es[i].Mask {
					es[i].Err = dirProblem
				}
			}
			out = append(out, es...)
		}
	}
	return out, dirProblems, unread
}

// scanners is how many entries of a search directory are looked at at
// once. On a cold cache, at boot, each entry's stat reads its inode from
// the disk: one after the other, the stats of 1,000 entries held back the
// first image by 40 ms.
const scanners = 16

func (r Root) scanEntry(rank int, dir, name, arch string) []Entry {
	p := path.Join(dir, name)
	imgName, version, suffix := names.SplitEntryName(name)
	e := Entry{Name: imgName, Version: version, Rank: rank, Dir: dir, Path: p}
	fi, err := r.lstat(p)
	if err != nil {
		return nil
	}
	target := p
	if fi.Mode()&os.ModeSymlink != 0 {
		link, err := r.readlink(p)
		if err != nil {
			return nil
		}
		if link == "/dev/null" {
			e.Mask = true
			if suffix == ".v" || suffix == ".raw.v" {
				e.Version = "" // NAME.v -> /dev/null masks NAME
			}
			return []Entry{e}
		}
		if target, fi, err = r.followLink(p); err != nil {
			e.Path, e.Err = target, err
			return keepIfNamed(e)
		}
		e.Path = target
	}
	switch {
	case suffix == ".v" || suffix == ".raw.v":
		if !fi.IsDir() {
			return nil
		}
		return r.vpick(e, target, arch)
	case suffix == ".raw":
		if !rawImageFile(fi.Mode()) {
			return nil
		}
		e.Kind = dissect.KindRaw
	case fi.IsDir():
		e.Kind = dissect.KindDirectory
	default:
		return nil // not an image: ignored quietly
	}
	if !names.ValidImageName(imgName) {
		e.Err = fmt.Errorf("%q is %w (letters, digits, '.' and '-' only)", imgName, ErrBadImageName)
	} else if e.Err == nil && target == p {
		// fi is p's own lstat. A symlink's target was checked, with the
		// directories above it, by followLink.
		if err := r.checkInfo(p, fi); err != nil {
			e.Err = fmt.Errorf("untrusted image: %w", err)
		}
	}
	return []Entry{e}
}

// followLink resolves the symlink at in-root path p inside the root and
// checks that its target and every directory above it are trusted. It
// returns the target (p when it cannot be resolved) and what it is.
func (r Root) followLink(p string) (string, fs.FileInfo, error) {
	target, err := r.Resolve(p)
	if err != nil {
		return p, nil, fmt.Errorf("cannot resolve symlink: %w", err)
	}
	if err := r.CheckChain(target); err != nil {
		return target, nil, fmt.Errorf("untrusted symlink target: %w", err)
	}
	fi, err := r.stat(target)
	if err != nil {
		return target, nil, fmt.Errorf("symlink target: %w", err)
	}
	return target, fi, nil
}

// rawImageFile reports whether a file of mode m can hold a raw image: a
// regular file or a block device. Nothing else is ever opened: opening a
// FIFO blocks until a writer comes (a reader stuck for the whole run), and
// opening a character device acts on the host (/dev/watchdog arms the
// machine's watchdog, which reboots it when nobody feeds it).
func rawImageFile(m fs.FileMode) bool {
	return m.IsRegular() || m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0
}

func keepIfNamed(e Entry) []Entry {
	if e.Name == "" {
		return nil
	}
	return []Entry{e}
}

// vpick lists the versions in a NAME.v directory: NAME_VERSION[_ARCH].raw
// files or NAME_VERSION[_ARCH] directories; other architectures are skipped.
func (r Root) vpick(e Entry, dir, arch string) []Entry {
	ents, err := r.readDir(dir)
	if err != nil {
		return nil
	}
	// The directory is one of the image's: whoever may write to it picks
	// the version that attaches.
	dirErr := r.Check(dir)
	var out []Entry
	for _, de := range ents {
		n := de.Name()
		if !strings.HasPrefix(n, e.Name+"_") {
			continue
		}
		rest := strings.TrimPrefix(n, e.Name+"_")
		kind := dissect.KindDirectory
		if strings.HasSuffix(rest, ".raw") {
			rest, kind = strings.TrimSuffix(rest, ".raw"), dissect.KindRaw
		}
		// Tries counters (NAME_1+3-0.raw) are not ours to count: drop them.
		if i := strings.IndexByte(rest, '+'); i >= 0 {
			rest = rest[:i]
		}
		version := rest
		if i := strings.LastIndexByte(rest, '_'); i >= 0 && knownArchitecture(rest[i+1:]) {
			if !sameArchitecture(rest[i+1:], arch) {
				continue
			}
			version = rest[:i]
		}
		v := e
		v.Version, v.Kind, v.Path = version, kind, path.Join(dir, n)
		fi, err := r.lstat(v.Path)
		if err != nil {
			continue
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			// Followed as in a search directory: inside the root, its
			// target trusted.
			var target string
			if target, fi, err = r.followLink(v.Path); err != nil {
				v.Path, v.Err = target, err
				out = append(out, v)
				continue
			}
			v.Path = target
		}
		if (kind == dissect.KindDirectory) != fi.IsDir() || kind == dissect.KindRaw && !rawImageFile(fi.Mode()) {
			continue
		}
		if err := cmp.Or(dirErr, r.Check(v.Path)); err != nil && v.Err == nil {
			v.Err = fmt.Errorf("untrusted image: %w", err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		e.Err = fmt.Errorf("%w in %s", ErrNoArchitectureEntry, dir)
		e.Kind = dissect.KindDirectory
		return []Entry{e}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
