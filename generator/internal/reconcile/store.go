package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/state"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Where the files live, inside the root.
const (
	// StatePath is the generator's record of its last run.
	StatePath = state.RuntimePath
	// RecordPath is reconcile's record of what it last reconciled.
	RecordPath = "/run/portable-generator/reconciled.json"
	// lockPath serialises reconciles (the .path unit's and an admin's).
	lockPath = "/run/portable-generator/reconcile.lock"
	// GeneratorDir is where the generator writes units and links.
	GeneratorDir = "/run/systemd/generator"
)

var (
	// ErrNoState: the generator has not written its state file.
	ErrNoState = errors.New("reconcile: no state file")
	// ErrBadState: the state file cannot be read.
	ErrBadState = errors.New("reconcile: unreadable state file")
	// ErrBadRecord: reconcile's own record is damaged.
	ErrBadRecord = errors.New("reconcile: unreadable record")
)

// record is the file form of a Snapshot, with when it was taken.
type record struct {
	Version   int                 `json:"version"`
	Time      string              `json:"time"`
	StateTime string              `json:"stateTime"` // the state file's time
	Units     map[string]Unit     `json:"units"`
	Wants     map[string][]string `json:"wants,omitempty"`
}

// LoadCurrent reads the generator's state file and the enablement links it
// wrote for its units, under root.
func LoadCurrent(root string) (*Snapshot, error) {
	sf, err := state.Read(filepath.Join(root, StatePath))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if sf == nil {
		return nil, fmt.Errorf("%w: %s (has the generator run since boot?)", ErrNoState, StatePath)
	}
	s := FromState(sf)
	if err := readLinks(filepath.Join(root, GeneratorDir), s); err != nil {
		return nil, err
	}
	return s, nil
}

// readLinks adds to s the enablement links in the generator directory dir
// (TARGET.wants/UNIT, .requires/, .upholds/) that name units of s.
func readLinks(dir string, s *Snapshot) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		var wanter string
		for _, suffix := range []string{".wants", ".requires", ".upholds"} {
			if w, ok := strings.CutSuffix(e.Name(), suffix); ok && e.IsDir() {
				wanter = w
			}
		}
		if wanter == "" {
			continue
		}
		links, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		for _, l := range links {
			if _, ours := s.Units[template(l.Name())]; ours {
				s.addWant(l.Name(), wanter)
			}
		}
	}
	return nil
}

// ChangedSince returns an entry of the search directories (or of a
// NAME.v/ directory in them) under root, or one of those directories,
// that was modified after t; "" when none was.
func ChangedSince(root string, t time.Time) string {
	newer := func(p string) bool {
		fi, err := os.Lstat(filepath.Join(root, p))
		return err == nil && fi.ModTime().After(t)
	}
	for _, dir := range host.SearchDirs {
		if newer(dir) {
			return dir
		}
		ents, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			if newer(p) {
				return p
			}
			if !e.IsDir() || !strings.HasSuffix(e.Name(), ".v") {
				continue
			}
			versions, _ := os.ReadDir(filepath.Join(root, p))
			for _, v := range versions {
				if newer(filepath.Join(p, v.Name())) {
					return filepath.Join(p, v.Name())
				}
			}
		}
	}
	return ""
}

// LoadRecord reads reconcile's record under root; nil without error when
// there is none.
func LoadRecord(root string) (*Snapshot, error) {
	b, err := os.ReadFile(filepath.Join(root, RecordPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.Version != 1 {
		return nil, fmt.Errorf("%w: %s: version %d, %v", ErrBadRecord, RecordPath, r.Version, err)
	}
	if r.Units == nil {
		r.Units = map[string]Unit{}
	}
	return &Snapshot{Units: r.Units, Wants: r.Wants, Time: r.StateTime}, nil
}

// SaveRecord writes s as the record, whole (temporary name, then rename).
func SaveRecord(root string, s *Snapshot, now time.Time) error {
	b, err := json.MarshalIndent(record{Version: 1, Time: now.UTC().Format(time.RFC3339), StateTime: s.Time,
		Units: s.Units, Wants: s.Wants}, "", "\t")
	if err != nil {
		return err
	}
	path := filepath.Join(root, RecordPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Lock takes the reconcile lock under root, waiting for another reconcile
// to finish; the returned function releases it.
func Lock(root string) (func(), error) {
	path := filepath.Join(root, lockPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	return func() { f.Close() }, nil
}

// LoadBootBaseline reads the generator's first run of this boot (what the
// boot started services from), nil if there is none: the baseline of the
// first reconcile when the boot did not record one.
func LoadBootBaseline(root string) (*Snapshot, error) {
	sf, err := state.Read(filepath.Join(root, state.BootPath))
	if err != nil || sf == nil {
		return nil, err
	}
	return FromState(sf), nil
}
