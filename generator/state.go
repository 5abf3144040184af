package generator

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/state"
)

// StateOf is the record of one run (package state): every report, the
// digests of the attached units and the paths granted to each image.
func StateOf(out Output, inv *Inventory, now time.Time) *state.File {
	s := &state.File{Time: now.UTC(), SystemdVersion: inv.SystemdVersion, Images: make([]state.Image, 0, len(out.Reports)), Unread: out.Unread}
	for _, r := range out.Reports {
		im := state.Image{Name: r.Name, Path: r.Path, State: string(r.State), Profile: r.Profile, Grants: r.Grants}
		if r.State == StateSkipped {
			// Not attached in this run, but still there: its services
			// may run on (reconcile leaves them, and the deadline skips
			// what it did not read), with what earlier runs granted. The
			// run that attaches it again must find those the image's.
			im.Grants = inv.Previous.GrantsOf(r.Name)
		}
		if r.Reason != "" {
			im.Reasons = []string{r.Reason}
		}
		if r.State == StateAttached {
			for i, u := range r.Units {
				var digest string
				if i < len(r.Digests) {
					digest = r.Digests[i]
				}
				im.Units = append(im.Units, state.Unit{Name: u, Digest: digest})
			}
		}
		s.Images = append(s.Images, im)
	}
	return s
}

// WriteState records the run in the root's /run/portable-generator/.
func WriteState(rootDir string, out Output, inv *Inventory, now time.Time) error {
	root, err := host.OpenRoot(rootDir)
	if err != nil {
		return err
	}
	s := StateOf(out, inv, now)
	runtime, err := root.HostPath(state.RuntimePath, false)
	if err != nil {
		return err
	}
	_, err = os.Lstat(runtime)
	s.Boot = errors.Is(err, fs.ErrNotExist)
	if !s.Boot {
		return state.Write(s, runtime)
	}
	// What the boot starts services from: reconcile's baseline when it
	// has not recorded one of its own.
	boot, err := root.HostPath(state.BootPath, false)
	if err != nil {
		return err
	}
	return state.Write(s, boot, runtime)
}

// LastRun reads the record of the last run in the root, nil if none.
func LastRun(rootDir string) (*state.File, error) {
	root, err := host.OpenRoot(rootDir)
	if err != nil {
		return nil, err
	}
	return root.ReadState(state.RuntimePath)
}
