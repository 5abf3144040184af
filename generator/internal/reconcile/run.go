package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/portable-generator/portable-generator/internal/text"
)

// Options for one reconcile.
type Options struct {
	Root   string // "/" on a live system; tests use a tree
	DryRun bool   // say what would be done; act on nothing, record nothing
	Out    io.Writer
	// Connect reaches PID 1 (Connect in production).
	Connect func(context.Context) (Manager, error)
	Now     func() time.Time
}

// ErrFailed: at least one job failed; the lines say which.
var ErrFailed = errors.New("reconcile: some units could not be changed")

// Run reconciles once: it reads the generator's state and its own record,
// asks PID 1 about the units concerned, acts, prints one line per unit
// whose situation changed, and records what it reconciled.
func Run(ctx context.Context, o Options) error {
	if !o.DryRun {
		unlock, err := Lock(o.Root)
		if err != nil {
			return err
		}
		defer unlock()
	}
	cur, err := LoadCurrent(o.Root)
	if err != nil {
		return err
	}
	prev, err := LoadRecord(o.Root)
	if err != nil {
		return err
	}
	if prev == nil {
		// No reconcile yet in this boot: what runs was started from the
		// boot's own generator run, which it keeps for this. (When that
		// run is the current one, nothing changed since: take it as the
		// baseline below.)
		boot, err := LoadBootBaseline(o.Root)
		if err != nil {
			return err
		}
		if boot != nil && !boot.RunAt.Equal(cur.RunAt) {
			fmt.Fprintf(o.Out, "no record of an earlier reconcile in %s: comparing with the boot's generator run of %s\n", RecordPath, boot.Time)
			prev = boot
		}
	}
	if p := ChangedSince(o.Root, cur.RunAt); p != "" {
		// Reconciling without the reload acts on what PID 1 has loaded,
		// which is harmless, but not what the admin just changed.
		fmt.Fprintf(o.Out, "note: %s changed after the generator last ran (%s): run systemctl daemon-reload, then reconcile\n", p, cur.Time)
	}
	if prev == nil {
		// Nothing to compare with: what runs now was started from this
		// state (true at boot, where the shipped unit records it).
		if o.DryRun {
			fmt.Fprintf(o.Out, "no record of an earlier reconcile in %s: would record the generator's run of %s as the baseline and change nothing\n", RecordPath, cur.Time)
			return nil
		}
		fmt.Fprintf(o.Out, "no record of an earlier reconcile in %s: recorded the generator's run of %s as the baseline, changed nothing\n", RecordPath, cur.Time)
		return SaveRecord(o.Root, cur, o.Now())
	}
	m, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	live, err := ask(ctx, m, prev, cur)
	if err != nil {
		return err
	}
	actions := Decide(prev, cur, live)
	failed := map[string]error{}
	// Phase by phase (stops, restarts, starts, then the rest, as Decide
	// orders them), each phase's jobs at once, its lines once they end.
	for start := 0; start < len(actions); {
		end := start + 1
		for end < len(actions) && actions[end].Op == actions[start].Op {
			end++
		}
		phase := actions[start:end]
		if op := phase[0].Op; !o.DryRun && (op == Stop || op == TryRestart || op == Start) {
			units := make([]string, len(phase))
			for i, a := range phase {
				units[i] = a.Unit
			}
			for u, err := range m.Do(ctx, op, units) {
				failed[u] = err
			}
		}
		for _, a := range phase {
			fmt.Fprintln(o.Out, line(a, o.DryRun, failed[a.Unit]))
		}
		start = end
	}
	if o.DryRun {
		return nil
	}
	if err := SaveRecord(o.Root, nextRecord(prev, cur, actions, failed), o.Now()); err != nil {
		return err
	}
	if len(failed) > 0 {
		return ErrFailed
	}
	return nil
}

// ask collects PID 1's view of every unit Decide may look at: the units of
// both snapshots and the instances of their templates, the units that
// want them, and what running sockets trigger.
func ask(ctx context.Context, m Manager, prev, cur *Snapshot) (map[string]Live, error) {
	names, templates := unitNames(prev, cur)
	for _, s := range []*Snapshot{prev, cur} {
		for _, ws := range s.Wants {
			for _, w := range ws {
				names[w] = true
			}
		}
	}
	live, err := m.Units(ctx, sortedKeys(names))
	if err != nil {
		return nil, err
	}
	inst, err := m.Instances(ctx, sortedKeys(templates))
	if err != nil {
		return nil, err
	}
	for u, l := range inst {
		live[u] = l
	}
	var extra []string
	for _, u := range sortedKeys(live) {
		l := live[u]
		if !strings.HasSuffix(u, ".socket") || !l.running() {
			continue
		}
		if l.Triggers, err = m.Triggers(ctx, u); err != nil {
			return nil, err
		}
		live[u] = l
		for _, t := range l.Triggers {
			if _, known := live[t]; !known {
				extra = append(extra, t)
			}
		}
	}
	if len(extra) > 0 {
		more, err := m.Units(ctx, extra)
		if err != nil {
			return nil, err
		}
		for u, l := range more {
			live[u] = l
		}
	}
	return live, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// line is the report of one unit: "UNIT: VERB: why".
func line(a Action, dryRun bool, err error) string {
	verbs := map[Op][2]string{ // done, dry run
		Stop:       {"stopped", "would stop"},
		TryRestart: {"restarted", "would restart"},
		Start:      {"started", "would start"},
		Keep:       {"left running", "would leave running"},
		None:       {"nothing to do", "nothing to do"},
	}
	failed := map[Op]string{Stop: "stop", TryRestart: "restart", Start: "start"}
	verb := verbs[a.Op][0]
	switch {
	case dryRun:
		verb = verbs[a.Op][1]
	case err != nil:
		verb = fmt.Sprintf("%s failed (%v)", failed[a.Op], err)
	}
	// The reasons and paths come from images (a file name can hold any
	// byte but "/"): escaped as the generator's log escapes them.
	return text.Escape(fmt.Sprintf("%s: %s: %s", a.Unit, verb, a.Why))
}

// nextRecord is what this reconcile leaves as the record: the current
// snapshot, except where the running units still differ from it, so that
// the next reconcile sees those units again: a unit left running or whose
// stop or restart failed keeps its old entry; a start that failed keeps
// the old links, so the unit is still newly wanted.
func nextRecord(prev, cur *Snapshot, actions []Action, failed map[string]error) *Snapshot {
	next := &Snapshot{Units: map[string]Unit{}, Wants: map[string][]string{}, Time: cur.Time}
	for u, v := range cur.Units {
		next.Units[u] = v
	}
	for u, ws := range cur.Wants {
		next.Wants[u] = ws
	}
	for _, a := range actions {
		key := template(a.Unit)
		_, err := failed[a.Unit]
		switch {
		case a.Op == Keep, err && a.Op != Start:
			if p, ok := prev.Units[key]; ok {
				next.Units[key] = p
			}
		case err && a.Op == Start:
			if ws, ok := prev.Wants[a.Unit]; ok {
				next.Wants[a.Unit] = ws
			} else {
				delete(next.Wants, a.Unit)
			}
		}
	}
	return next
}
