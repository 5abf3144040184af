package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/profiles"
)

// profileDirs hold admins' and vendors' profiles, highest first. The first
// two override our built-in profiles of the same name; the others only
// provide names we do not ship.
var profileDirs = []string{
	"/etc/systemd/portable/profile",
	"/run/systemd/portable/profile",
	"/usr/local/lib/systemd/portable/profile",
	"/usr/lib/systemd/portable/profile",
}

// profile finds the service.conf of a profile name.
func (t trust) profile(name string, systemdVersion int) ([]byte, error) {
	lookup := func(dir string) ([]byte, bool, error) {
		f := path.Join(dir, name, "service.conf")
		b, err := os.ReadFile(t.host(f))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, true, err
		}
		if err := t.check(f); err != nil {
			return nil, true, fmt.Errorf("untrusted profile: %w", err)
		}
		return b, true, nil
	}
	for _, d := range profileDirs[:2] {
		if b, ok, err := lookup(d); ok {
			return b, err
		}
	}
	if b, ok := profiles.Builtin(name, systemdVersion); ok {
		return b, nil
	}
	for _, d := range profileDirs[2:] {
		if b, ok, err := lookup(d); ok {
			return b, err
		}
	}
	return nil, fmt.Errorf("unknown profile %q (built-in: %s; or create %s/%s/service.conf)",
		name, strings.Join(profiles.Names, ", "), profileDirs[0], name)
}

// profileCache reads each profile name once per run: a thousand images
// under the default profile share one lookup.
type profileCache struct {
	t       trust
	version int
	mu      sync.Mutex
	byName  map[string]profileResult
}

type profileResult struct {
	conf []byte
	err  error
}

func newProfileCache(t trust, systemdVersion int) *profileCache {
	return &profileCache{t: t, version: systemdVersion, byName: map[string]profileResult{}}
}

func (c *profileCache) get(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byName[name]
	if !ok {
		r.conf, r.err = c.t.profile(name, c.version)
		c.byName[name] = r
	}
	return r.conf, r.err
}

// Load reads what the plan needs from one chosen entry: settings, profile,
// os-release, matching unit files, architectures and verity. A failing
// reader costs this image only: a panic is recovered and reported.
func (t trust) Load(e Entry, global Settings, host Host, profiles *profileCache) (img Image) {
	img.Entry = e
	img.Settings = t.imageSettings(global, e.Name)
	if e.Problem != "" {
		img.Problem = e.Problem
		return img
	}
	profileName := img.Settings.Profile
	if profileName == "" {
		profileName = "default"
	}
	if b, err := profiles.get(profileName); err != nil {
		img.ProfileProblem = err.Error()
	} else {
		img.Profile = b
	}
	defer func() {
		if r := recover(); r != nil {
			img.Problem = fmt.Sprintf("reading the image crashed (a bug in portable-generator, please report it): %v", r)
		}
	}()
	d, err := dissect.Open(t.host(e.Path))
	if err != nil {
		img.Problem = describeDissectError(err)
		return img
	}
	defer d.Close()
	for _, p := range d.Partitions {
		if (p.Designator == "root" || p.Designator == "usr") && p.Architecture != "" && !contains(img.Architectures, p.Architecture) {
			img.Architectures = append(img.Architectures, p.Architecture)
		}
	}
	if d.Verity != nil {
		v := *d.Verity
		v.HashTree = t.inRoot(v.HashTree)
		v.SignaturePath = t.inRoot(v.SignaturePath)
		img.Verity = &v
	}
	osr, _, _, err := d.OSRelease()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Plan refuses it with the standard reason.
	case err != nil:
		img.Problem = "cannot read os-release: " + describeDissectError(err)
		return img
	default:
		img.OSRelease = osr
	}
	units, err := imageUnits(d.FS(), Prefixes(&img))
	if err != nil {
		img.Problem = describeDissectError(err)
	}
	img.Units = units
	return img
}

// inRoot maps a host path back to the path seen inside the root.
func (t trust) inRoot(p string) string {
	if p == "" || t.root == "/" || t.root == "" {
		return p
	}
	if rel, err := filepath.Rel(t.root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "/" + rel
	}
	return p
}

// imageUnits collects the unit files matching prefixes from the image's
// unit directories in portabled's order, the first of each name winning;
// empty and /dev/null-masked units are skipped as portabled skips them.
func imageUnits(fsys fs.FS, prefixes []string) ([]Unit, error) {
	seen := map[string]bool{}
	var out []Unit
	for _, dir := range dissect.UnitDirectories {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
				continue
			}
			return nil, fmt.Errorf("reading /%s: %w", dir, err)
		}
		for _, de := range ents {
			name := de.Name()
			if seen[name] || !validUnitName(name) || bestMatch(name, prefixes) == "" {
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
				if errors.Is(err, dissect.ErrCorrupt) || errors.Is(err, dissect.ErrBudget) || errors.Is(err, dissect.ErrUnsupported) {
					return nil, fmt.Errorf("reading /%s: %w", p, err)
				}
				continue // dangling or not a regular file: portabled skips it too
			}
			if len(b) == 0 {
				continue
			}
			seen[name] = true
			out = append(out, Unit{Name: name, Content: b})
		}
	}
	return out, nil
}

// describeDissectError says which of the two kinds an image error is.
func describeDissectError(err error) string {
	switch {
	case errors.Is(err, dissect.ErrUnsupported):
		return "unsupported image: " + err.Error()
	case errors.Is(err, dissect.ErrBudget):
		return "image needs more work than allowed, refusing (hostile or broken?): " + err.Error()
	case errors.Is(err, dissect.ErrCorrupt), errors.Is(err, dissect.ErrLoop):
		return "corrupt image: " + err.Error()
	}
	return err.Error()
}
