package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
)

// Scan lists the image entries of every search directory under the root.
// Missing directories are normal and silent; a search directory that exists
// but cannot be listed comes back as a problem, and unusable entries come
// back with a Problem so that list can say why.
func (t trust) Scan(arch string) (out []Entry, dirProblems []string) {
	for rank, dir := range SearchDirs {
		fi, err := os.Stat(t.host(dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			dirProblems = append(dirProblems, fmt.Sprintf("search directory %s: %v", dir, unwrapPath(err)))
			continue
		}
		if !fi.IsDir() {
			dirProblems = append(dirProblems, fmt.Sprintf("search directory %s is not a directory, ignored", dir))
			continue
		}
		dirProblem := ""
		if err := t.checkChain(dir); err != nil {
			dirProblem = "untrusted search directory: " + err.Error()
		}
		ents, err := os.ReadDir(t.host(dir))
		if err != nil {
			dirProblems = append(dirProblems, fmt.Sprintf("cannot list search directory %s, its images are not attached: %v", dir, unwrapPath(err)))
			continue
		}
		for _, de := range ents {
			if strings.HasPrefix(de.Name(), ".") {
				continue
			}
			es := t.scanEntry(rank, dir, de.Name(), arch)
			for i := range es {
				if dirProblem != "" && es[i].Problem == "" && !es[i].Mask {
					es[i].Problem = dirProblem
				}
			}
			out = append(out, es...)
		}
	}
	return out, dirProblems
}

// unwrapPath drops the host-side path (which includes --root) from an
// os error, keeping its reason.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (t trust) scanEntry(rank int, dir, name, arch string) []Entry {
	p := path.Join(dir, name)
	imgName, version, suffix := splitEntryName(name)
	e := Entry{Name: imgName, Version: version, Rank: rank, Dir: dir, Path: p}
	fi, err := os.Lstat(t.host(p))
	if err != nil {
		return nil
	}
	target := p
	if fi.Mode()&os.ModeSymlink != 0 {
		link, err := os.Readlink(t.host(p))
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
		target, err = t.resolveInRoot(p)
		if err != nil {
			e.Problem = fmt.Sprintf("cannot resolve symlink: %v", err)
			return keepIfNamed(e)
		}
		e.Path = target
		if err := t.checkChain(target); err != nil {
			e.Problem = "untrusted symlink target: " + err.Error()
			return keepIfNamed(e)
		}
		if fi, err = os.Stat(t.host(target)); err != nil {
			e.Problem = fmt.Sprintf("symlink target: %v", err)
			return keepIfNamed(e)
		}
	}
	switch {
	case suffix == ".v" || suffix == ".raw.v":
		if !fi.IsDir() {
			return nil
		}
		return t.vpick(e, target, arch)
	case suffix == ".raw":
		if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeDevice == 0 {
			return nil
		}
		e.Kind = dissect.KindRaw
	case fi.IsDir():
		e.Kind = dissect.KindDirectory
	default:
		return nil // not an image: ignored quietly
	}
	if !validImageName(imgName) {
		e.Problem = fmt.Sprintf("%q is not a valid image name (letters, digits, '.' and '-' only)", imgName)
	} else if e.Problem == "" {
		if err := t.check(e.Path); err != nil {
			e.Problem = "untrusted image: " + err.Error()
		}
	}
	return []Entry{e}
}

func keepIfNamed(e Entry) []Entry {
	if e.Name == "" {
		return nil
	}
	return []Entry{e}
}

// vpick lists the versions in a NAME.v directory: NAME_VERSION[_ARCH].raw
// files or NAME_VERSION[_ARCH] directories; other architectures are skipped.
func (t trust) vpick(e Entry, dir, arch string) []Entry {
	ents, err := os.ReadDir(t.host(dir))
	if err != nil {
		return nil
	}
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
		fi, err := os.Stat(t.host(v.Path))
		if err != nil || (kind == dissect.KindDirectory) != fi.IsDir() {
			continue
		}
		if err := t.check(v.Path); err != nil && v.Problem == "" {
			v.Problem = "untrusted image: " + err.Error()
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		e.Problem = fmt.Sprintf("no entry for this architecture in %s", dir)
		e.Kind = dissect.KindDirectory
		return []Entry{e}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
