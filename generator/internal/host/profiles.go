package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/portable-generator/portable-generator/profiles"
)

// ErrUnknownProfile is a profile name with no service.conf anywhere.
var ErrUnknownProfile = errors.New("unknown profile")

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
func (r Root) profile(name string, systemdVersion int) ([]byte, error) {
	lookup := func(dir string) ([]byte, bool, error) {
		b, err := r.readTrusted(path.Join(dir, name, "service.conf"))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, false, nil
		case errors.Is(err, ErrUntrusted):
			return nil, true, fmt.Errorf("untrusted profile: %w", err)
		case err != nil:
			return nil, true, err
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
	return nil, fmt.Errorf("%w %q (built-in: %s; or create %s/%s/service.conf)",
		ErrUnknownProfile, name, strings.Join(profiles.Names, ", "), profileDirs[0], name)
}

// Profiles reads each profile name once per run: a thousand images under
// the default profile share one lookup. It is safe for concurrent use.
type Profiles struct {
	root    Root
	version int
	mu      sync.Mutex
	byName  map[string]profileResult
}

type profileResult struct {
	conf []byte
	err  error
}

// NewProfiles looks profiles up in the root, rendering built-in ones for
// systemdVersion.
func NewProfiles(r Root, systemdVersion int) *Profiles {
	return &Profiles{root: r, version: systemdVersion, byName: map[string]profileResult{}}
}

// Get returns the service.conf of a profile name.
func (c *Profiles) Get(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byName[name]
	if !ok {
		r.conf, r.err = c.root.profile(name, c.version)
		c.byName[name] = r
	}
	return r.conf, r.err
}
