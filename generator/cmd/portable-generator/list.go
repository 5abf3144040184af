package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/generator"
)

// listVerb prints every image found and what became of it.
func listVerb(inv *invocation) int {
	out, _, err := inv.generate()
	if err != nil {
		inv.errorf("cannot read %s: %v", inv.root, err)
		return exitFailure
	}
	for _, w := range out.Warnings {
		inv.errorf("%s", w)
	}
	last := readLastRun(inv.root)
	if inv.json != "" {
		return printJSON(inv, listJSON(out.Reports, last))
	}
	generator.WriteList(inv.stdout, out.Reports)
	writeWarnings(inv.stdout, out.Reports)
	last.writeSummary(inv.stdout, out.Reports)
	return exitOK
}

// writeWarnings prints, below list's table, the images' warnings (an
// unknown settings key, a newer version that could not be read): they do
// not change a row, but a typo like Enabled=yes silently keeps a service
// from starting at boot, so list must show it, not only inspect and the
// journal. One line each, as the generator logs it.
func writeWarnings(w io.Writer, reports []generator.Report) {
	first := true
	for _, r := range reports {
		for _, warning := range r.Warnings {
			if first {
				fmt.Fprintln(w, "\nWarnings:")
				first = false
			}
			fmt.Fprintf(w, "%s: %s: %s\n", generator.OneLine(r.Name), generator.OneLine(r.Path), generator.OneLine(warning))
		}
	}
}

// listEntry is one element of list --json: a report, and on the image's
// main entry the last run's verdict where it differs ("lastRun").
type listEntry struct {
	generator.Report
	LastRun *verdict `json:"lastRun,omitempty"`
}

// listJSON is list --json: today's reports, then the images only the last
// run saw, with state "not-found".
func listJSON(reports []generator.Report, last lastRun) []listEntry {
	changes := last.changes(reports)
	main := mainEntries(reports)
	out := []listEntry{}
	for _, r := range reports {
		e := listEntry{Report: reportJSON(r)}
		if main[r.Name] == &reports[len(out)] {
			e.LastRun = changes[r.Name]
		}
		out = append(out, e)
	}
	var gone []string
	for name, v := range changes {
		if _, ok := main[name]; !ok && v != nil {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		out = append(out, listEntry{Report: generator.Report{Name: name, State: "not-found", Units: []string{}}, LastRun: changes[name]})
	}
	return out
}

// inspectVerb prints every decision for one image: 0 when it is attached,
// 1 when it is not, 2 when it cannot be told.
func inspectVerb(inv *invocation) int {
	const exitNotAttached, exitError = 1, 2
	name := inv.operands[0]
	out, host, err := inv.generate()
	if err != nil {
		inv.errorf("cannot read %s: %v", inv.root, err)
		return exitError
	}
	reports := generator.ReportsOf(out.Reports, name)
	attached := len(reports) > 0 && reports[0].State == generator.StateAttached
	files := fileNames(generator.FilesOf(out.Files, []string{name}))
	if len(reports) == 0 {
		inv.errorf("%s: no image of that name in %s", name, strings.Join(generator.SearchDirs, " "))
	}
	last := readLastRun(inv.root)
	var today *generator.Report
	if len(reports) > 0 {
		today = &reports[0]
	}
	if inv.json != "" {
		var then *verdict
		if last.file != nil {
			then = last.verdictOn(name)
		}
		if printJSON(inv, map[string]any{
			"name": name, "attached": attached, "entries": reportsJSON(reports),
			"systemdVersion": host.SystemdVersion, "architecture": host.Architecture,
			"files": files, "lastRun": then,
			"enabled": attached && enabled(generator.FilesOf(out.Files, []string{name})),
		}) != exitOK {
			return exitError
		}
	} else {
		w := inv.stdout
		for _, r := range reports {
			fmt.Fprintf(w, "%s: %s\n", generator.OneLine(r.Path), r.State)
			if r.Reason != "" {
				fmt.Fprintf(w, "    reason:  %s\n", generator.OneLine(r.Reason))
			}
			if r.State == generator.StateAttached || r.State == generator.StateSkipped {
				fmt.Fprintf(w, "    profile: %s\n", generator.OneLine(r.Profile))
			}
			for _, u := range r.Units {
				fmt.Fprintf(w, "    unit:    %s\n", generator.OneLine(u))
			}
			for _, n := range r.Warnings {
				fmt.Fprintf(w, "    warning: %s\n", generator.OneLine(n))
			}
			for _, n := range r.Notices {
				fmt.Fprintf(w, "    notice:  %s\n", generator.OneLine(n))
			}
			for _, l := range r.Layers {
				fmt.Fprintf(w, "    %-10s %s %s\n", l.Role+":", generator.OneLine(l.Name), generator.OneLine(l.Path))
				if l.VerityRootHash != "" {
					fmt.Fprintf(w, "               verity root hash %s\n", generator.OneLine(l.VerityRootHash))
				}
				if l.ReleasePath != "" {
					fmt.Fprintf(w, "               %s (found by %s)\n", generator.OneLine(l.ReleasePath), l.ReleaseMatch)
				}
				for _, kv := range l.Release {
					fmt.Fprintf(w, "                 %s\n", generator.OneLine(kv))
				}
			}
		}
		if attached {
			fmt.Fprintf(w, "enabled: %s\n", generator.OneLine(enablement(name, generator.FilesOf(out.Files, []string{name}))))
			fmt.Fprintf(w, "files (systemd %d, %s):\n", host.SystemdVersion, host.Architecture)
			for _, f := range files {
				fmt.Fprintf(w, "    %s\n", generator.OneLine(f))
			}
		}
		fmt.Fprintln(w, last.sentence(name, today))
	}
	if !attached {
		return exitNotAttached
	}
	return exitOK
}

// enabled reports whether the run wrote [Install] links for the image's
// units (Enable=yes): they start at boot.
func enabled(files []generator.File) bool {
	for _, f := range files {
		if dir, _, ok := strings.Cut(f.Path, "/"); ok && f.Link != "" &&
			(strings.HasSuffix(dir, ".wants") || strings.HasSuffix(dir, ".requires") || strings.HasSuffix(dir, ".upholds")) {
			return true
		}
	}
	return false
}

// enablement says whether an attached image's units start at boot, and,
// when not, how to make them: systemctl enable refuses generated units, and
// an admin who tried it needs to hear of Enable=yes.
func enablement(name string, files []generator.File) string {
	if enabled(files) {
		return "yes (Enable=yes: links from the units' [Install] sections)"
	}
	return "no: start it with systemctl start, or set Enable=yes in /etc/systemd/portable/" + name +
		".portable to start it at boot (systemctl enable refuses generated units)"
}

func fileNames(files []generator.File) []string {
	out := []string{}
	for _, f := range files {
		if f.Link != "" {
			out = append(out, f.Path+" -> "+f.Link)
		} else {
			out = append(out, f.Path)
		}
	}
	return out
}
