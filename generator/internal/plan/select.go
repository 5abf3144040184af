package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/internal/vercmp"
)

// Select applies shadowing, masks and version ordering (DESIGN.md) to the
// entries of all search directories. It returns, in NAME order, the
// candidates of each NAME newest first (the first that reads cleanly wins,
// see Superseded), and a report for every entry shadowed or masked.
func Select(entries []host.Entry) (chosen []Candidates, lost []Report) {
	byName := map[string][]host.Entry{}
	for _, e := range entries {
		byName[e.Name] = append(byName[e.Name], e)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		es := byName[name]
		sort.SliceStable(es, func(i, j int) bool { return es[i].Rank < es[j].Rank })
		owner := es[0].Rank
		// A whole-name mask masks NAME in its directory and below; when it
		// sits in the owning directory, NAME is masked altogether.
		var mask *host.Entry
		for i := range es {
			if es[i].Mask && es[i].Version == "" && es[i].Rank == owner {
				mask = &es[i]
				break
			}
		}
		// Versioned masks hide their version in their directory and below:
		// the mask of a version in the highest directory (es is in rank
		// order) hides it wherever it is found. A map, not a search per
		// entry: a NAME.v directory may hold a great many versions.
		versionMasks := map[string]*host.Entry{}
		for i := range es {
			if m := &es[i]; m.Mask && m.Version != "" && versionMasks[m.Version] == nil {
				versionMasks[m.Version] = m
			}
		}
		hidden := func(e host.Entry) *host.Entry {
			if m := versionMasks[e.Version]; m != nil && m.Rank <= e.Rank {
				return m
			}
			return nil
		}
		var candidates []host.Entry
		for _, e := range es {
			switch {
			case e.Mask:
				continue
			case mask != nil:
				lost = append(lost, Report{Name: name, State: StateMasked, Path: e.Path,
					Reason: fmt.Sprintf("masked by %s -> /dev/null", mask.Path)})
			case e.Rank != owner:
				lost = append(lost, Report{Name: name, State: StateShadowed, Path: e.Path,
					Reason: fmt.Sprintf("shadowed by an entry for %s in %s", name, host.SearchDirs[owner])})
			case hidden(e) != nil:
				lost = append(lost, Report{Name: name, State: StateMasked, Path: e.Path,
					Reason: fmt.Sprintf("version %s masked by %s -> /dev/null", e.Version, hidden(e).Path)})
			default:
				candidates = append(candidates, e)
			}
		}
		if mask != nil && allMasks(es) {
			lost = append(lost, Report{Name: name, State: StateMasked, Path: mask.Path, Reason: "masked (symlink to /dev/null)"})
		}
		if len(candidates) == 0 {
			continue
		}
		sort.SliceStable(candidates, func(i, j int) bool { return newer(candidates[i], candidates[j]) })
		chosen = append(chosen, candidates)
	}
	return chosen, lost
}

// Superseded reports the candidates older than the one that won.
func Superseded(older []host.Entry, winner string) []Report {
	return superseded(older, fmt.Sprintf("superseded by %s", winner))
}

// NotTried reports the candidates left unread after the newest tried ones
// could not be read.
func NotTried(older []host.Entry, tried int) []Report {
	return superseded(older, fmt.Sprintf("not tried: the %d newer versions tried could not be read", tried))
}

// superseded reports each of older as superseded, for reason.
func superseded(older []host.Entry, reason string) []Report {
	var out []Report
	for _, e := range older {
		out = append(out, Report{Name: e.Name, State: StateSuperseded, Path: e.Path, Reason: reason})
	}
	return out
}

func allMasks(es []host.Entry) bool {
	for _, e := range es {
		if !e.Mask {
			return false
		}
	}
	return true
}

// newer orders entries of one directory: the highest version first (an
// unversioned entry is the lowest), a directory before a raw file at equal
// versions, then by path for determinism.
func newer(a, b host.Entry) bool {
	switch {
	case a.Version == "" && b.Version != "":
		return false
	case a.Version != "" && b.Version == "":
		return true
	}
	if c := vercmp.Compare(a.Version, b.Version); c != 0 {
		return c > 0
	}
	if (a.Kind == dissect.KindDirectory) != (b.Kind == dissect.KindDirectory) {
		return a.Kind == dissect.KindDirectory
	}
	return a.Path < b.Path
}

// Unreadable reports whether an image could not be read (a damaged or
// half-copied file, an unreadable one, an untrusted one, neither an
// os-release nor an extension-release):
// the selection then falls back to the next newest version. Problems that
// every version shares (settings, profile) or that the admin must decide
// (refusals) do not fall back.
func Unreadable(img *host.Image) bool {
	return img.Err != nil || (img.OSRelease == nil && img.Release == nil)
}

// Unattached reports an entry that was read and cannot be used.
func Unattached(img *host.Image) Report {
	p := Image(img, &host.Inventory{}, ProfileParses{})
	return p.Report
}

// FallbackNotice tells the admin that newer versions were passed over.
func FallbackNotice(skipped []Report) string {
	var paths []string
	for _, r := range skipped {
		paths = append(paths, r.Path+" ("+r.Reason+")")
	}
	return "newer version not readable, kept this one: " + strings.Join(paths, "; ")
}
