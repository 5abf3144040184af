package plan

import (
	"errors"
	"path"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// Image states of the images an attachment is layered from, when they are
// not attached on their own.
const (
	StateBase      State = "base"      // a base without units of its own matching its name
	StateExtension State = "extension" // an extension image
)

// permittedPrefixes is the union of the layers' PORTABLE_PREFIXES=: the
// base's os-release, then each extension's release file (portablectl adds
// every extension's to the base's). Empty means any prefix.
func permittedPrefixes(img *host.Image) []string {
	if img.Layers == nil {
		return strings.Fields(img.OSRelease["PORTABLE_PREFIXES"])
	}
	var rels []*dissect.ExtensionRelease
	for _, e := range img.Layers.Extensions {
		rels = append(rels, e.Release)
	}
	return dissect.PortablePrefixes(img.OSRelease, rels...)
}

// MarkLayerRoles says what the images named by Base= and Extensions= are:
// a base without units of its own (or whose own name its PORTABLE_PREFIXES
// do not permit) is "base" of the images naming it, an extension image not
// attached on its own is "extension" of those naming it, or unused when no
// settings file names it. An image that attaches on its own keeps its
// state, with a notice naming the attachments over it.
func MarkLayerRoles(ps []*Planned) {
	byName, byPath := map[string]*Planned{}, map[string]*Planned{}
	for _, p := range ps {
		byName[p.Report.Name] = p
		byPath[p.Report.Path] = p
	}
	find := func(ref string) *Planned {
		if strings.HasPrefix(ref, "/") {
			return byPath[ref]
		}
		return byName[ref]
	}
	baseOf := map[*Planned][]string{}
	extensionOf := map[*Planned][]string{}
	for _, p := range ps {
		name := p.Report.Name
		if b := find(p.base); p.base != "" && b != nil && b.Report.Name != name {
			baseOf[b] = append(baseOf[b], name)
		}
		for _, ref := range p.extensions {
			if e := find(ref); e != nil && e.Report.Name != name {
				extensionOf[e] = append(extensionOf[e], name)
			}
		}
	}
	role := func(p *Planned, state State, what string, of []string) {
		sort.Strings(of)
		text := what + " of " + strings.Join(of, ", ")
		if p.Skipped() {
			p.Report.State, p.Report.Reason, p.Report.Err = state, text, nil
			return
		}
		p.Report.Notices = append(p.Report.Notices, text)
	}
	for _, p := range ps {
		switch {
		case len(baseOf[p]) > 0 && (!p.Skipped() || errors.Is(p.Report.Err, ErrNoUnits) || errors.Is(p.Report.Err, ErrPrefixNotPermitted)):
			role(p, StateBase, "base", baseOf[p])
		case len(extensionOf[p]) > 0 && (!p.Skipped() || errors.Is(p.Report.Err, ErrExtensionOnly)):
			role(p, StateExtension, "extension", extensionOf[p])
		case p.Skipped() && errors.Is(p.Report.Err, ErrExtensionOnly):
			p.Report.State, p.Report.Reason, p.Report.Err = StateExtension, "extension, unused", nil
		}
	}
}

// layerPaths are the paths of an attachment's tree, root first, as the
// drop-in's marker names them.
func layerPaths(img *host.Image) []string {
	if img.Layers == nil {
		return []string{img.Path}
	}
	out := []string{img.Layers.Root.Path}
	for _, e := range img.Layers.Extensions {
		out = append(out, e.Path)
	}
	return out
}

// unitSource is the file name of the layer a unit came from, as
// PORTABLE= names it.
func unitSource(img *host.Image, u host.Unit) string {
	if img.Layers == nil {
		return path.Base(img.Path)
	}
	if u.Layer > 0 && u.Layer <= len(img.Layers.Extensions) {
		return path.Base(img.Layers.Extensions[u.Layer-1].Path)
	}
	return path.Base(img.Layers.Root.Path)
}

// layerReports describes an attachment's layers for list and inspect.
func layerReports(img *host.Image) []LayerReport {
	l := img.Layers
	if l == nil {
		return nil
	}
	hash := func(v *dissect.Verity) string {
		if v == nil {
			return ""
		}
		return v.RootHash
	}
	out := []LayerReport{{Role: "base", Name: l.Root.Name, Path: l.Root.Path, VerityRootHash: hash(l.Root.Verity)}}
	for _, e := range l.Extensions {
		r := LayerReport{Role: "extension", Name: e.Name, Path: e.Path, VerityRootHash: hash(e.Verity)}
		if rel := e.Release; rel != nil {
			r.ReleasePath, r.ReleaseMatch = rel.Path, rel.Match
			for _, k := range rel.Keys {
				r.Release = append(r.Release, k+"="+rel.Fields[k])
			}
		}
		out = append(out, r)
	}
	return out
}
