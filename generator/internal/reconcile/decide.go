package reconcile

import (
	"fmt"
	"github.com/portable-generator/portable-generator/generator/internal/names"
	"sort"
	"strings"
)

// Op is what reconcile does to one unit.
type Op int

const (
	// None: nothing to do; the line says why.
	None Op = iota
	// Stop: the unit's image is gone, masked, or no longer ships it.
	Stop
	// TryRestart: the unit runs and its output changed.
	TryRestart
	// Start: an active unit newly wants it.
	Start
	// Keep: the unit would be stopped or restarted, but is left as it is
	// on purpose (its image is skipped now, or it is no longer ours).
	Keep
)

// Action is the decision for one unit.
type Action struct {
	Unit string
	Op   Op
	Why  string
}

// Live is what PID 1 says about a unit after the reload.
type Live struct {
	Load   string // LoadState: loaded, not-found, masked, …
	Active string // ActiveState: active, inactive, failed, activating, …
	// Triggers are the units a socket, timer or path unit activates (only
	// asked for running sockets).
	Triggers []string
}

// running: PID 1 has the unit up or on its way up. A unit that is
// deactivating is already being stopped; one in maintenance (257) is
// having its directories cleaned and is not running.
func (l Live) running() bool {
	switch l.Active {
	case "active", "activating", "reloading", "refreshing":
		return true
	}
	return false
}

// Instances returns the units Decide considers: every non-template unit of
// both snapshots, the instances of their templates that PID 1 has loaded
// (the keys of live) or that a link wants.
func Instances(prev, cur *Snapshot, live map[string]Live) []string {
	set, templates := unitNames(prev, cur)
	for name := range live {
		if !names.IsTemplate(name) && templates[template(name)] {
			set[name] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// unitNames splits the units of the snapshots into unit names (with the
// units their links want) and templates.
func unitNames(ss ...*Snapshot) (units, templates map[string]bool) {
	units, templates = map[string]bool{}, map[string]bool{}
	for _, s := range ss {
		for name := range s.Units {
			if names.IsTemplate(name) {
				templates[name] = true
			} else {
				units[name] = true
			}
		}
		for name := range s.Wants {
			if !names.IsTemplate(name) {
				units[name] = true
			}
		}
	}
	return units, templates
}

// Decide compares the record of the last reconcile (prev) with the
// generator's newest output (cur) and PID 1's view of each unit (live),
// and returns one action per unit whose situation changed: stops first,
// then restarts, then starts, each by name; then the units left alone.
// Units that are the same in both snapshots and not newly wanted get no
// action at all.
func Decide(prev, cur *Snapshot, live map[string]Live) []Action {
	var out []Action
	for _, name := range Instances(prev, cur, live) {
		if a, ok := decideUnit(name, prev, cur, live); ok {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return opOrder(out[i].Op) < opOrder(out[j].Op) })
	return out
}

func opOrder(op Op) int {
	switch op {
	case Stop:
		return 0
	case TryRestart:
		return 1
	case Start:
		return 2
	}
	return 3
}

func decideUnit(name string, prev, cur *Snapshot, live map[string]Live) (Action, bool) {
	key := template(name)
	p, inPrev := prev.Units[key]
	c, inCur := cur.Units[key]
	l := live[name]
	running := l.running()
	act := func(op Op, format string, args ...any) (Action, bool) {
		return Action{Unit: name, Op: op, Why: fmt.Sprintf(format, args...)}, true
	}
	switch {
	case inPrev && !inCur:
		return decideGone(name, p, cur.Images[p.Image], l, cur.Unread)
	case !inPrev && !inCur:
		// A link names an instance whose template is in neither: not
		// ours to act on.
		return Action{}, false
	}
	wanters := newWanters(name, prev, cur, inPrev, live)
	wantedBy := strings.Join(wanters, ", ")
	if !inPrev {
		switch {
		case running:
			return act(None, "new from %s, already running", c.Path)
		case l.Load == "masked":
			return act(None, "new from %s, masked", c.Path)
		case len(wanters) > 0:
			return act(Start, "new from %s, wanted by %s", c.Path, wantedBy)
		}
		if t := triggerOf(name, cur); t != "" {
			return act(None, "new from %s, started by %s", c.Path, t)
		}
		return act(None, "new from %s, not enabled (start it with: systemctl start %s)", c.Path, name)
	}
	if p.Digest == c.Digest {
		if !running && len(wanters) > 0 && l.Load != "masked" {
			return act(Start, "newly wanted by %s", wantedBy)
		}
		return Action{}, false
	}
	what := changeOf(p, c)
	switch {
	case running && strings.HasSuffix(name, ".socket"):
		for _, t := range l.Triggers {
			if live[t].running() {
				// PID 1 refuses to start a socket while the service it
				// hands connections to runs, so a restart would leave the
				// socket stopped.
				return act(Keep, "%s; not restarted while %s runs (restart it after stopping %s)", what, t, t)
			}
		}
		return act(TryRestart, "%s", what)
	case running:
		return act(TryRestart, "%s", what)
	case len(wanters) > 0 && l.Load != "masked":
		return act(Start, "%s, and newly wanted by %s", what, wantedBy)
	}
	return act(None, "%s; not running", what)
}

// decideGone: the unit was ours at the last reconcile and is not
// generated any more.
func decideGone(name string, p Unit, st ImageStatus, l Live, unread []string) (Action, bool) {
	var why string
	op := Stop
	switch st.State {
	case "":
		why = fmt.Sprintf("image %s is gone (was %s)", p.Image, p.Path)
		if len(unread) > 0 {
			// The run could not read every search directory: the image
			// may be there still, unseen. Stopping it would turn an I/O
			// error into an outage.
			op = Keep
			why = fmt.Sprintf("image %s was not seen, but the last run could not read %s", p.Image, strings.Join(unread, " "))
		}
	case stateAttached:
		why = fmt.Sprintf("%s does not ship it", st.Path)
	case stateMasked:
		why = fmt.Sprintf("image %s is masked by %s", p.Image, st.Path)
	default:
		// A settings typo or a damaged image must not cost a running
		// service: leave it to the admin.
		op = Keep
		why = fmt.Sprintf("image %s is %s now", p.Image, st.State)
		if len(st.Reasons) > 0 {
			why += ": " + strings.Join(st.Reasons, "; ")
		}
	}
	switch {
	case !l.running():
		return Action{Unit: name, Op: None, Why: why + "; not running"}, true
	case l.Load == "loaded":
		// Loaded although we no longer write it: a unit of the host's
		// (an admin's or a package's) took the name over.
		return Action{Unit: name, Op: None, Why: why + "; the name is now loaded from elsewhere, left alone"}, true
	case op == Keep:
		why += fmt.Sprintf("; still running from %s (stop it with: systemctl stop %s)", p.Path, name)
	}
	return Action{Unit: name, Op: op, Why: why}, true
}

// triggerOf names the generated socket, timer or path unit that starts
// service name by default (the same name with its own suffix), "" if none.
func triggerOf(name string, cur *Snapshot) string {
	stem, ok := strings.CutSuffix(name, ".service")
	if !ok {
		return ""
	}
	for _, suffix := range []string{".socket", ".timer", ".path"} {
		if _, ok := cur.Units[stem+suffix]; ok {
			return stem + suffix
		}
	}
	return ""
}

// changeOf says what changed for a unit whose digest differs.
func changeOf(p, c Unit) string {
	if p.Path != c.Path {
		return fmt.Sprintf("now from %s (was %s)", c.Path, p.Path)
	}
	return fmt.Sprintf("changed (its unit file, drop-ins or the image file %s)", c.Path)
}

// newWanters are the running units that want name through a link of the
// current snapshot that the record did not have (every link, for a unit
// that is new).
func newWanters(name string, prev, cur *Snapshot, inPrev bool, live map[string]Live) []string {
	var out []string
	for _, w := range cur.Wants[name] {
		if inPrev && contains(prev.Wants[name], w) {
			continue
		}
		if live[w].running() {
			out = append(out, w)
		}
	}
	return out
}

func contains(sorted []string, s string) bool {
	i := sort.SearchStrings(sorted, s)
	return i < len(sorted) && sorted[i] == s
}
