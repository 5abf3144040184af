package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/portable-generator/portable-generator/generator"
	"github.com/portable-generator/portable-generator/generator/internal/state"
)

// lastRun is what the generator's last run (at boot or at a reload)
// recorded in /run/portable-generator/state.json. `list` and `inspect`
// compute today's view; what PID 1 loaded is the last run's, and that is
// what an admin asks about after a boot.
type lastRun struct {
	file *state.File // nil: no run recorded
	err  error       // the record could not be read
}

func readLastRun(root string) lastRun {
	f, err := generator.LastRun(root)
	return lastRun{file: f, err: err}
}

// when says which run it was: "boot at TIME" or "reload at TIME".
func (l lastRun) when() string {
	kind := "reload"
	if l.file.Boot {
		kind = "boot"
	}
	return kind + " at " + l.file.Time.Local().Format("Mon 2006-01-02 15:04:05 MST")
}

// verdict is the last run's verdict on one image, for --json.
type verdict struct {
	Time    time.Time `json:"time"`
	Boot    bool      `json:"boot"`
	State   string    `json:"state"`
	Path    string    `json:"path,omitempty"`
	Reasons []string  `json:"reasons,omitempty"`
}

// verdictOn returns the last run's verdict on image name, nil if it saw no
// such image.
func (l lastRun) verdictOn(name string) *verdict {
	im := l.file.Find(name)
	if im == nil {
		return nil
	}
	return &verdict{Time: l.file.Time, Boot: l.file.Boot, State: im.State, Path: im.Path, Reasons: im.Reasons}
}

// differs reports whether the last run decided otherwise than today's
// main entry for the image (nil: no such image today).
func differs(today *generator.Report, then *verdict) bool {
	switch {
	case today == nil || then == nil:
		return today != nil || then != nil
	case string(today.State) != then.State || today.Path != then.Path:
		return true
	}
	return today.Reason != strings.Join(then.Reasons, "; ")
}

// mainEntries returns each image's main report: its attached entry, else
// its first, by name.
func mainEntries(reports []generator.Report) map[string]*generator.Report {
	m := map[string]*generator.Report{}
	for i := range reports {
		r := &reports[i]
		if cur, ok := m[r.Name]; !ok || cur.State != generator.StateAttached && r.State == generator.StateAttached {
			m[r.Name] = r
		}
	}
	return m
}

// changes are the images on which the last run decided otherwise than
// today's view, by name.
func (l lastRun) changes(reports []generator.Report) map[string]*verdict {
	if l.file == nil {
		return nil
	}
	today := mainEntries(reports)
	out := map[string]*verdict{}
	for name, r := range today {
		if v := l.verdictOn(name); differs(r, v) {
			out[name] = v // nil: the last run did not see it
		}
	}
	for _, im := range l.file.Images {
		if _, ok := today[im.Name]; !ok {
			out[im.Name] = l.verdictOn(im.Name)
		}
	}
	return out
}

// writeSummary prints, below list's table, what the last run decided
// where it differs from the table.
func (l lastRun) writeSummary(w io.Writer, reports []generator.Report) {
	switch {
	case l.err != nil:
		fmt.Fprintf(w, "\nThe last run's record cannot be read: %s\n", generator.OneLine(l.err.Error()))
		return
	case l.file == nil:
		fmt.Fprintf(w, "\nNo run of the generator recorded (%s): none since boot.\n", state.RuntimePath)
		return
	}
	changes := l.changes(reports)
	if len(changes) == 0 {
		fmt.Fprintf(w, "\nThe last run (%s) decided the same.\n", l.when())
		return
	}
	fmt.Fprintf(w, "\nAt the last run (%s), where it differs:\n", l.when())
	names := make([]string, 0, len(changes))
	for n := range changes {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		v := changes[n]
		if v == nil {
			fmt.Fprintf(tw, "%s\t%s\n", generator.OneLine(n), "not seen")
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", generator.OneLine(n), v.State, generator.OneLine(v.Path),
			generator.OneLine(strings.Join(v.Reasons, "; ")))
	}
	tw.Flush()
}

// sentence is inspect's line on the last run: "at the last run (boot at
// TIME): skipped: REASON", and whether it is today's verdict too.
func (l lastRun) sentence(name string, today *generator.Report) string {
	switch {
	case l.err != nil:
		return "the last run's record cannot be read: " + generator.OneLine(l.err.Error())
	case l.file == nil:
		return "no run of the generator recorded (" + state.RuntimePath + "): none since boot"
	}
	v := l.verdictOn(name)
	head := "at the last run (" + l.when() + "): "
	if v == nil {
		return head + "not seen"
	}
	s := head + v.State
	if v.Path != "" && (today == nil || today.Path != v.Path) {
		s += " (" + generator.OneLine(v.Path) + ")"
	}
	if len(v.Reasons) > 0 {
		s += " because " + generator.OneLine(strings.Join(v.Reasons, "; "))
	}
	if !differs(today, v) {
		s += ", as now"
	}
	return s
}
