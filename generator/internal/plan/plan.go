package generator

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/portable-generator/portable-generator/generator/internal/policy"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Prefixes returns the unit-name prefixes an image is matched with: the
// admin's Match=, else its NAME (portablectl's derived prefix).
func Prefixes(img *Image) []string {
	if len(img.Settings.Match) > 0 {
		return img.Settings.Match
	}
	return []string{img.Name}
}

// planned is one image's output before image-vs-image conflicts are
// settled.
type planned struct {
	img     *Image
	report  Report
	files   []File   // drop-ins, then units, then links
	claims  []string // unit names (and aliases) the image puts in the output
	prefix  map[string]string
	skipped bool
}

// Plan decides, for every chosen image, whether it attaches and renders its
// files. It is pure: everything it needs is in its arguments. lost are the
// reports of entries Select set aside; they are merged into the result.
func Plan(images []Image, lost []Report, host Host) Output {
	ps := planEach(images, host)
	settleConflicts(ps)
	var out Output
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].img.Name < ps[j].img.Name })
	for _, p := range ps {
		if !p.skipped {
			out.Files = append(out.Files, p.files...)
		}
		out.Reports = append(out.Reports, p.report)
	}
	out.Reports = append(out.Reports, lost...)
	sort.SliceStable(out.Reports, func(i, j int) bool {
		a, b := out.Reports[i], out.Reports[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return stateOrder(a.State) < stateOrder(b.State)
	})
	return out
}

func stateOrder(s string) int {
	return map[string]int{StateAttached: 0, StateSkipped: 1, StateSuperseded: 2, StateShadowed: 3, StateMasked: 4}[s]
}

func skip(p *planned, format string, args ...any) *planned {
	p.skipped = true
	p.report.State = StateSkipped
	p.report.Reason = fmt.Sprintf(format, args...)
	p.report.Units = nil
	return p
}

// planEach plans every image on its own, in parallel over contiguous
// runs of images (a thousand images are 5,000 unit files to parse and
// check), each worker with its own profile parses.
func planEach(images []Image, host Host) []*planned {
	ps := make([]*planned, len(images))
	workers := min(runtime.NumCPU(), (len(images)+31)/32)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*len(images)/workers, (w+1)*len(images)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			profiles := profileParses{}
			for i := lo; i < hi; i++ {
				ps[i] = planImage(&images[i], host, profiles)
			}
		}()
	}
	wg.Wait()
	return ps
}

// profileParses parses each distinct profile once per worker: a thousand
// images under one profile share a parse or two (the policy only reads it).
type profileParses map[string]profileParse

type profileParse struct {
	file *unitfile.File
	err  error
}

func (m profileParses) parse(conf []byte) (*unitfile.File, error) {
	if p, ok := m[string(conf)]; ok {
		return p.file, p.err
	}
	f, err := unitfile.Parse(conf)
	m[string(conf)] = profileParse{f, err}
	return f, err
}

func planImage(img *Image, host Host, profiles profileParses) *planned {
	profile := img.Settings.Profile
	if profile == "" {
		profile = "default"
	}
	p := &planned{img: img, prefix: map[string]string{}, report: Report{
		Name: img.Name, State: StateAttached, Path: img.Path, Profile: profile,
		Notices: append([]string(nil), img.Settings.Warnings...),
	}}
	switch {
	case img.Problem != "":
		return skip(p, "%s", img.Problem)
	case img.Settings.Problem != "":
		return skip(p, "%s", img.Settings.Problem)
	case img.ProfileProblem != "":
		return skip(p, "%s", img.ProfileProblem)
	}
	if err := writablePath(img.Path); err != nil {
		return skip(p, "cannot be written into a unit: %v", err)
	}
	osr := img.OSRelease
	if osr == nil {
		return skip(p, "no os-release in the image (looked for /etc/os-release and /usr/lib/os-release)")
	}
	if osr["ID"] == "" {
		return skip(p, "os-release has no ID= field")
	}
	switch scope := osr["PORTABLE_SCOPE"]; scope {
	case "", "system", "any":
	case "user":
		return skip(p, "os-release says PORTABLE_SCOPE=user: the image is for user services, not system services")
	default:
		return skip(p, "os-release has an invalid PORTABLE_SCOPE=%s", scope)
	}
	if len(img.Architectures) > 0 && !runsOn(img.Architectures, host.Architecture) {
		return skip(p, "the image is built for %s, this machine is %s", strings.Join(img.Architectures, ", "), host.Architecture)
	}
	prefixes := Prefixes(img)
	if allowed := strings.Fields(osr["PORTABLE_PREFIXES"]); len(allowed) > 0 {
		for _, m := range prefixes {
			if !contains(allowed, m) {
				return skip(p, "prefix %q is not among the image's PORTABLE_PREFIXES=%s (set Match= in %s.portable)", m, strings.Join(allowed, " "), img.Name)
			}
		}
	}
	if len(img.Units) == 0 {
		return skip(p, "no unit files matching %s in the image (looked for %s units in the image's unit directories)",
			strings.Join(quoteAll(prefixes), " "), strings.Join(unitTypes, " "))
	}
	parsedProfile, err := profiles.parse(img.Profile)
	if err != nil {
		return skip(p, "profile %s cannot be parsed: %v", profile, err)
	}
	var unitNames []string
	for _, u := range img.Units {
		unitNames = append(unitNames, u.Name)
	}
	var dropins, units, links []File
	for _, u := range img.Units {
		parsed, err := unitfile.Parse(u.Content)
		if err != nil {
			return skip(p, "unit %s cannot be parsed: %v", u.Name, err)
		}
		narrow, err := policy.Check(u.Name, parsed, policy.Image{Units: unitNames, Prefixes: prefixes, Allow: img.Settings.AllowDirectives}, profile, parsedProfile)
		if err != nil {
			return skip(p, "%v", err)
		}
		p.claims = append(p.claims, u.Name)
		p.prefix[u.Name] = bestMatch(u.Name, prefixes)
		p.report.Units = append(p.report.Units, u.Name)
		if unitType(u.Name) == ".service" {
			dropins = append(dropins, File{Path: u.Name + ".d/10-profile.conf", Data: profileDropIn(img.Profile, narrow)})
		}
		dropins = append(dropins, File{Path: u.Name + ".d/20-portable.conf", Data: portableDropIn(img, u.Name, host)})
		units = append(units, File{Path: u.Name, Data: u.Content})
		if img.Settings.Enable {
			inst, err := parseInstall(parsed)
			if err != nil {
				return skip(p, "unit %s: bad [Install] section: %v", u.Name, err)
			}
			l, notices := installLinks(u, inst)
			links = append(links, l...)
			p.report.Notices = append(p.report.Notices, notices...)
			for _, a := range inst.aliases {
				if validUnitName(a) && unitType(a) == unitType(u.Name) {
					p.claims = append(p.claims, a)
					p.prefix[a] = p.prefix[u.Name]
				}
			}
		}
	}
	for _, name := range p.claims {
		if dir, ok := host.VendorUnits[name]; ok {
			return skip(p, "unit %s already exists on the host in %s", name, dir)
		}
		if where, ok := host.AdminUnits[name]; ok {
			p.report.Notices = append(p.report.Notices, fmt.Sprintf("%s is overridden by the admin's %s", name, where))
		}
	}
	p.files = append(append(dropins, units...), links...)
	for i := range p.files {
		p.files[i].Image = img.Name
	}
	return p
}

// profileDropIn is the profile with the unit's narrowed lists appended.
// Most units narrow nothing: they then share the profile's bytes (capped,
// so that no append can write into them) instead of a copy each.
func profileDropIn(profile, narrow []byte) []byte {
	if len(narrow) == 0 {
		return profile[:len(profile):len(profile)]
	}
	return append(append(make([]byte, 0, len(profile)+len(narrow)), profile...), narrow...)
}

// settleConflicts skips images that would put the same unit name into the
// output as another image: the more specific prefix keeps it, then the
// higher search directory, then the lower NAME. It repeats until no two
// attached images claim one name, since skipping an image frees its names.
func settleConflicts(ps []*planned) {
	for {
		owners := map[string][]*planned{}
		for _, p := range ps {
			if p.skipped {
				continue
			}
			for _, c := range p.claims {
				owners[c] = append(owners[c], p)
			}
		}
		names := make([]string, 0, len(owners))
		for n, o := range owners {
			if len(o) > 1 {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return
		}
		sort.Strings(names)
		unit := names[0]
		o := owners[unit]
		sort.SliceStable(o, func(i, j int) bool {
			a, b := o[i], o[j]
			if la, lb := len(a.prefix[unit]), len(b.prefix[unit]); la != lb {
				return la > lb
			}
			if a.img.Rank != b.img.Rank {
				return a.img.Rank < b.img.Rank
			}
			return a.img.Name < b.img.Name
		})
		for _, loser := range o[1:] {
			skip(loser, "unit %s is also provided by image %s (%s), which takes precedence", unit, o[0].img.Name, o[0].img.Path)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
