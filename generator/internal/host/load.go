package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"syscall"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/names"
)

// OSReleaseError is an image whose os-release could not be read.
type OSReleaseError struct{ Err error }

func (e *OSReleaseError) Error() string { return "cannot read os-release: " + e.Err.Error() }
func (e *OSReleaseError) Unwrap() error { return e.Err }

// ErrCrashed is a reader that panicked: a bug, which costs that image only.
var ErrCrashed = errors.New("reading the image crashed")

// Load reads what the plan needs from one chosen entry: settings, profile,
// os-release, matching unit files, architectures and verity. A failing
// reader costs this image only: a panic is recovered and reported.
func (r Root) Load(e Entry, global Settings, profiles *Profiles) Image {
	return r.LoadFile(e, nil, global, profiles)
}

// LoadFile is Load, reading the entry's image from f if it is not nil:
// the file dissect.PrefetchFile opened at the entry's path (HostPath), which
// LoadFile closes.
func (r Root) LoadFile(e Entry, f *dissect.File, global Settings, profiles *Profiles) (img Image) {
	defer func() {
		if f != nil {
			f.Close() // not handed on
		}
	}()
	img.Entry = e
	img.Settings = r.ImageSettings(global, e.Name)
	if e.Err != nil {
		img.Err = e.Err
		return img
	}
	img.Profile, img.ProfileErr = profiles.Get(img.ProfileName())
	defer func() {
		if p := recover(); p != nil {
			img.Err = fmt.Errorf("%w (a bug in portable-generator, please report it): %v", ErrCrashed, p)
		}
	}()
	d, err := r.read(&img, profiles.version, f)
	f = nil // read owns it
	if err != nil {
		img.Err = err
		return img
	}
	defer d.Close()
	img.Identity = identity(e.Path, d.FileInfo())
	units, err := ImageUnits(d.FS(), img.Prefixes())
	if err != nil {
		img.Err = err
	}
	img.Units = units
	return img
}

// read opens the image of img.Entry and fills in what the image says of
// itself: architectures, verity, os-release or extension-release (found as
// systemdVersion finds it: an extension that systemd cannot use counts as
// unreadable, and an older version is taken). The caller closes the image.
// f, if not nil, is the image file as dissect.PrefetchFile opened it; read
// owns it.
func (r Root) read(img *Image, systemdVersion int, f *dissect.File) (*dissect.Image, error) {
	// Read as the installed systemd reads it where versions differ (252
	// cannot read 4096-byte-sector disks; os-release comments changed).
	d, err := r.openImage(img.Path, dissect.Options{SystemdVersion: systemdVersion, File: f})
	if err != nil {
		return nil, err
	}
	for _, p := range d.Partitions {
		if (p.Designator == "root" || p.Designator == "usr") && p.Architecture != "" && !slices.Contains(img.Architectures, p.Architecture) {
			img.Architectures = append(img.Architectures, p.Architecture)
		}
	}
	img.Verity = verity(d, img.Path)
	osr, _, _, err := d.OSRelease()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// An extension image has an extension-release instead. Without
		// either, plan refuses it with the standard reason.
		name := dissect.ExtensionName(img.Path, img.Kind, systemdVersion)
		rel, err := d.ExtensionRelease(name, systemdVersion)
		switch {
		case err == nil:
			img.Release = rel
		case systemdVersion != 0:
			// Say so when only a newer systemd would take it.
			if _, newer := d.ExtensionRelease(dissect.ExtensionName(img.Path, img.Kind, 0), 0); newer == nil {
				img.ReleaseErr = err
			}
		}
	case err != nil:
		d.Close()
		return nil, &OSReleaseError{Err: err}
	default:
		img.OSRelease = osr
	}
	return d, nil
}

// verity is what dissect found for PID 1's dm-verity, with the sidecar
// files named beside the image's in-root path imgPath, as PID 1 will
// find them. dissect looked for them beside the path it opened, which is
// the same directory reached through the root (see HostPath).
func verity(d *dissect.Image, imgPath string) *dissect.Verity {
	if d.Verity == nil {
		return nil
	}
	v := *d.Verity
	beside := func(side string) string {
		if side == "" {
			return ""
		}
		return path.Join(path.Dir(imgPath), path.Base(side))
	}
	v.HashTree, v.SignaturePath = beside(v.HashTree), beside(v.SignaturePath)
	return &v
}

// ImageUnits collects the unit files matching prefixes from the image's
// unit directories in portabled's order, the first of each name winning;
// empty and /dev/null-masked units are skipped as portabled skips them.
func ImageUnits(fsys fs.FS, prefixes []string) ([]Unit, error) {
	files, err := dissect.Units(fsys, unitFilter(prefixes))
	if err != nil {
		return nil, err
	}
	out := make([]Unit, 0, len(files))
	for _, f := range files {
		out = append(out, Unit{Name: f.Name, Content: f.Content})
	}
	return out, nil
}

// unitFilter keeps the names of portable unit types matching a prefix.
func unitFilter(prefixes []string) func(string) bool {
	return func(name string) bool {
		return names.ValidUnitName(name) && names.MatchUnit(name, prefixes) != ""
	}
}

// identity describes the image at in-root path p, as fi says it was when
// opened, so that a replaced file (copy then rename, an upgrade in place)
// differs from the one before.
func identity(p string, fi fs.FileInfo) string {
	if fi == nil {
		return p
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%s dev=%d ino=%d size=%d mtime=%d", p, st.Dev, st.Ino, st.Size, fi.ModTime().UnixNano())
	}
	return fmt.Sprintf("%s size=%d mtime=%d", p, fi.Size(), fi.ModTime().UnixNano())
}
