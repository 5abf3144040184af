package plan

import (
	"fmt"
	"path"
	"sort"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// installSection is what Enable=yes reads from a unit's [Install].
type installSection struct {
	wantedBy, requiredBy, upheldBy, aliases []string
	defaultInstance                         string
}

func parseInstall(f *unitfile.File) (installSection, error) {
	var s installSection
	var err error
	for _, k := range []struct {
		key string
		dst *[]string
	}{{"WantedBy", &s.wantedBy}, {"RequiredBy", &s.requiredBy}, {"UpheldBy", &s.upheldBy}, {"Alias", &s.aliases}} {
		if *k.dst, err = f.Words("Install", k.key); err != nil {
			return s, err
		}
	}
	s.defaultInstance, _ = f.Last("Install", "DefaultInstance")
	return s, nil
}

// installLinks turns a unit's [Install] section into enablement symlinks,
// relative as systemd's generators make them. Every name that becomes a
// path is a valid unit name first (so it holds no '/' and is not "." or
// ".."); aliases must be the image's own: in its namespace and of the
// unit's type. What does not pass is left out with a notice.
func installLinks(unit string, inst installSection, prefixes []string) (links []File, aliases, notices []string) {
	add := func(dir, name, target string) {
		links = append(links, File{Path: path.Join(dir, name), Link: target})
	}
	enableName := unit
	if names.IsTemplate(unit) {
		switch {
		case inst.defaultInstance == "":
			if len(inst.wantedBy)+len(inst.requiredBy)+len(inst.upheldBy) > 0 {
				notices = append(notices, fmt.Sprintf("%s: a template without DefaultInstance= is not enabled", unit))
			}
			enableName = ""
		case !names.ValidInstance(inst.defaultInstance) || !names.ValidUnitName(names.InstanceName(unit, inst.defaultInstance)):
			notices = append(notices, fmt.Sprintf("%s: ignoring invalid DefaultInstance=%s", unit, inst.defaultInstance))
			enableName = ""
		default:
			enableName = names.InstanceName(unit, inst.defaultInstance)
		}
	}
	if enableName != "" {
		for _, dep := range []struct {
			suffix  string
			targets []string
		}{{".wants", inst.wantedBy}, {".requires", inst.requiredBy}, {".upholds", inst.upheldBy}} {
			for _, t := range dep.targets {
				if !names.ValidAnyUnitName(t) {
					notices = append(notices, fmt.Sprintf("%s: ignoring invalid [Install] target %q", unit, t))
					continue
				}
				add(t+dep.suffix, enableName, "../"+unit)
			}
		}
	}
	for _, a := range inst.aliases {
		switch {
		case !names.ValidUnitName(a) || names.UnitType(a) != names.UnitType(unit) || names.IsTemplate(a) != names.IsTemplate(unit):
			notices = append(notices, fmt.Sprintf("%s: ignoring invalid Alias=%s", unit, a))
			continue
		case !names.InNamespace(a, prefixes):
			notices = append(notices, fmt.Sprintf("%s: ignoring Alias=%s: not a name of the image's own", unit, a))
			continue
		}
		add("", a, unit)
		aliases = append(aliases, a)
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Path < links[j].Path })
	return links, aliases, notices
}
