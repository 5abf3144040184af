package dissect

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// UnitFile is a unit file found in an image's unit directories.
type UnitFile struct {
	Name    string
	Path    string // in the image, without a leading "/": "usr/lib/systemd/system/app0.service"
	Content []byte
	// Layer is 0 for the base image, i for the i-th extension (1-based).
	Layer int
}

// Units collects the unit files of fsys that keep accepts (by name), from
// the unit directories in portabled's order, the first of each name
// winning. Empty and /dev/null-masked files are skipped, as portabled
// skips them; so are names that are not regular files or symlinks, and
// symlinks that lead nowhere. Reading errors that say the image is bad
// (corrupt, over budget, unsupported) end the collection.
func Units(fsys fs.FS, keep func(name string) bool) ([]UnitFile, error) {
	return collectUnits(fsys, 0, keep, map[string]bool{}, nil)
}

func collectUnits(fsys fs.FS, layer int, keep func(string) bool, seen map[string]bool, out []UnitFile) ([]UnitFile, error) {
	for _, dir := range UnitDirectories {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
				continue
			}
			return nil, fmt.Errorf("reading /%s: %w", dir, err)
		}
		for _, de := range ents {
			name := de.Name()
			if seen[name] || !keep(name) {
				continue
			}
			if de.Type()&fs.ModeSymlink == 0 && !de.Type().IsRegular() {
				continue
			}
			p := path.Join(dir, name)
			if de.Type()&fs.ModeSymlink != 0 {
				if target, err := fs.ReadLink(fsys, p); err == nil && target == "/dev/null" {
					continue
				}
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrBudget) || errors.Is(err, ErrUnsupported) {
					return nil, fmt.Errorf("reading /%s: %w", p, err)
				}
				continue // dangling or not a regular file: portabled skips it too
			}
			if len(b) == 0 {
				continue
			}
			if len(out) == MaxUnits {
				return nil, fmt.Errorf("%w (%d)", ErrTooManyUnits, MaxUnits)
			}
			seen[name] = true
			out = append(out, UnitFile{Name: name, Path: p, Content: b, Layer: layer})
		}
	}
	return out, nil
}

// Extension is an opened extension image with its release file.
type Extension struct {
	Image   *Image
	Name    string // the name its release file was looked up by
	Release *ExtensionRelease
}

// LayeredUnits collects unit files over a base image and its extensions
// as portabled does: the base's first, then each extension's in order, a
// name already collected never replaced (the base wins a clash, then the
// earlier extension).
func LayeredUnits(base *Image, exts []Extension, keep func(name string) bool) ([]UnitFile, error) {
	seen := map[string]bool{}
	out, err := collectUnits(base.FS(), 0, keep, seen, nil)
	if err != nil {
		return nil, err
	}
	for i, e := range exts {
		if out, err = collectUnits(e.Image.FS(), i+1, keep, seen, out); err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
	}
	return out, nil
}

// PortablePrefixes is the union of PORTABLE_PREFIXES= of a base's
// os-release and its extensions' release files, sorted, each once; nil
// when none sets it (then any prefix may be used).
func PortablePrefixes(base map[string]string, releases ...*ExtensionRelease) []string {
	all := strings.Fields(base["PORTABLE_PREFIXES"])
	for _, r := range releases {
		if r != nil {
			all = append(all, strings.Fields(r.Fields["PORTABLE_PREFIXES"])...)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}
