package reconcile

import (
	"time"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/state"
	"sort"
)

// Snapshot is what one generator run attached, in the terms reconcile
// compares: it is built from the state file and the generator's links, and
// it is what a reconcile records.
type Snapshot struct {
	// Units are the generated units by name (templates as foo@.service).
	Units map[string]Unit `json:"units"`
	// Wants maps a unit (or a template's instance) to the units whose
	// .wants/, .requires/ or .upholds/ link the generator wrote for it,
	// sorted.
	Wants map[string][]string `json:"wants,omitempty"`
	// Images says, per image name, what became of it (not recorded: only
	// the current snapshot's images explain why a unit went away).
	Images map[string]ImageStatus `json:"-"`
	// Time is when the generator run ran (the state file's "time"), as
	// the lines say it; RunAt is the same to compare with.
	Time  string    `json:"-"`
	RunAt time.Time `json:"-"`
	// Unread are search directories the run could not read: a unit whose
	// image is missing may only be unseen, and is not stopped.
	Unread []string `json:"-"`
}

// Unit is one generated unit.
type Unit struct {
	Image  string `json:"image"`  // the image NAME
	Path   string `json:"path"`   // the image it comes from
	Digest string `json:"digest"` // of everything written for it, and the image's identity
}

// ImageStatus is what became of one image name in a generator run.
type ImageStatus struct {
	State   string   // attached, masked, skipped, … as the state file says
	Path    string   // the entry that decided it
	Reasons []string // why it was skipped
}

// Image states of the state file that reconcile tells apart.
const (
	stateAttached   = "attached"
	stateMasked     = "masked"
	stateShadowed   = "shadowed"
	stateSuperseded = "superseded"
)

// FromState builds a snapshot (without Wants) from a generator run's
// state file.
func FromState(sf *state.File) *Snapshot {
	s := &Snapshot{Units: map[string]Unit{}, Images: map[string]ImageStatus{}, Time: sf.Time.UTC().Format(time.RFC3339), RunAt: sf.Time, Unread: sf.Unread}
	for _, im := range sf.Images {
		// The entry that decides a name is the one that is neither
		// shadowed nor superseded; an attached entry always decides.
		if old, seen := s.Images[im.Name]; seen && (old.State == stateAttached ||
			im.State == stateShadowed || im.State == stateSuperseded) {
			continue
		}
		s.Images[im.Name] = ImageStatus{State: im.State, Path: im.Path, Reasons: im.Reasons}
		if im.State != stateAttached {
			continue
		}
		for _, u := range im.Units {
			s.Units[u.Name] = Unit{Image: im.Name, Path: im.Path, Digest: u.Digest}
		}
	}
	return s
}

// template is the template a unit is an instance of ("foo@a.service" →
// "foo@.service"), or the unit itself: the key its generated unit has.
func template(unit string) string {
	if t := names.TemplateOf(unit); t != "" {
		return t
	}
	return unit
}

// addWant records that wanter wants unit.
func (s *Snapshot) addWant(unit, wanter string) {
	if s.Wants == nil {
		s.Wants = map[string][]string{}
	}
	ws := s.Wants[unit]
	i := sort.SearchStrings(ws, wanter)
	if i < len(ws) && ws[i] == wanter {
		return
	}
	s.Wants[unit] = append(ws[:i], append([]string{wanter}, ws[i:]...)...)
}
