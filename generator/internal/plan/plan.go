// Package plan is the generator's pure core: from the images package host
// read and the host's inventory, it decides which images attach, renders
// their files, and says why the others do not. It reads nothing from disk,
// so every decision is a function of its arguments and table tests call it
// with images made in memory.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/policy"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Planned is one image's output before image-vs-image conflicts are
// settled.
type Planned struct {
	Report Report
	// Files are the image's drop-ins, then units, then links.
	Files []File
	// Claims are the unit names (and aliases) the image puts in the output.
	Claims []string
	// Rank and the prefix each claim matched decide unit-name conflicts
	// between images; prefixes[i] is that of Claims[i] (a slice, not a
	// map: a run keeps every image's claims to its end).
	rank     int
	prefixes []string
	// keep: a unit's grants must outlive a reboot (KeepUnit).
	keep bool
	// base and extensions are what the image's settings layer it with
	// (Base=, Extensions=), for MarkLayerRoles.
	base       string
	extensions []string
}

// KeepsGrants reports whether the image needs KeepUnit.
func (p *Planned) KeepsGrants() bool { return p.keep && !p.Skipped() }

// Skipped reports whether the image does not attach.
func (p *Planned) Skipped() bool { return p.Report.State == StateSkipped }

func (p *Planned) skip(err error) *Planned {
	p.Report.State = StateSkipped
	p.Report.Err = err
	p.Report.Reason = Describe(err)
	p.Report.Units, p.Report.Digests = nil, nil
	p.Files = nil
	return p
}

// Assemble orders the planned images and the other reports into an Output.
func Assemble(ps []*Planned, lost []Report) Output {
	var out Output
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Report.Name < ps[j].Report.Name })
	for _, p := range ps {
		if !p.Skipped() {
			out.Files = append(out.Files, p.Files...)
		}
		out.Reports = append(out.Reports, p.Report)
	}
	out.Reports = append(out.Reports, lost...)
	SortReports(out.Reports)
	return out
}

// SortReports orders reports by NAME, the attached entry of each first.
func SortReports(reports []Report) {
	sort.SliceStable(reports, func(i, j int) bool {
		a, b := reports[i], reports[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.State.order() < b.State.order()
	})
}

// ProfileParses parses each distinct profile once: a thousand images under
// one profile share a parse (the policy only reads it). Not safe for
// concurrent use: one per goroutine.
type ProfileParses map[string]profileParse

type profileParse struct {
	file *unitfile.File
	err  error
}

func (m ProfileParses) parse(conf []byte) (*unitfile.File, error) {
	if p, ok := m[string(conf)]; ok {
		return p.file, p.err
	}
	f, err := unitfile.Parse(conf)
	m[string(conf)] = profileParse{f, err}
	return f, err
}

// Image plans one image on its own: the checks of reasons.go in their
// order, then every unit through the policy (planUnit), then what the host
// holds. Every unit is judged before the image is skipped for refusals,
// so that the report names them all.
func Image(img *host.Image, inv *host.Inventory, profiles ProfileParses) (planned *Planned) {
	// Planning parses and judges the image's text: a panic there is a bug
	// that must cost this image only, with a reason naming it, not the
	// whole run (as host.Load for the readers).
	defer func() {
		if r := recover(); r != nil {
			p := &Planned{rank: img.Rank, Report: Report{Name: img.Name, State: StateAttached, Path: img.Path, Profile: img.ProfileName()}}
			planned = p.skip(fmt.Errorf("%w (a bug in portable-generator, please report it): %v", ErrPlanCrashed, r))
		}
	}()
	return planImage(img, inv, profiles)
}

// ErrPlanCrashed is planning that panicked: a bug, which costs that image
// only.
var ErrPlanCrashed = errors.New("planning the image crashed")

func planImage(img *host.Image, inv *host.Inventory, profiles ProfileParses) *Planned {
	p := &Planned{rank: img.Rank, base: img.Settings.Base, extensions: img.Settings.Extensions, Report: Report{
		Name: img.Name, State: StateAttached, Path: img.Path, Profile: img.ProfileName(),
		Warnings: append([]string(nil), img.Settings.Warnings...),
	}}
	c := &imageCheck{img: img, inv: inv, profiles: profiles}
	for _, check := range imageChecks {
		if err := check.run(c); err != nil {
			return p.skip(err)
		}
	}
	pimg := policy.Image{Prefixes: img.Prefixes(), Allow: img.Settings.AllowDirectives, Claims: img.Settings.Claim}
	for _, u := range img.Units {
		pimg.Units = append(pimg.Units, u.Name)
	}
	var dropins, units, links []File
	var cl claims
	var refused policy.Refusals
	claimed := map[string]bool{}
	for _, u := range img.Units {
		up, err := planUnit(u, c, pimg)
		p.Report.Notices = append(p.Report.Notices, up.notices...)
		var r policy.Refusals
		switch {
		case errors.As(err, &r):
			refused = append(refused, r...)
			continue
		case err != nil:
			return p.skip(err)
		}
		prefix := names.MatchUnit(u.Name, pimg.Prefixes)
		for _, n := range append([]string{u.Name}, up.aliases...) {
			p.claim(claimed, n, prefix)
		}
		for _, c := range up.claims {
			cl.byPolicy = append(cl.byPolicy, unitClaim{unit: u.Name, Claim: c})
		}
		p.keep = p.keep || up.keep
		p.Report.Units = append(p.Report.Units, u.Name)
		dropins = append(dropins, up.dropins...)
		units = append(units, File{Path: u.Name, Data: u.Content})
		links = append(links, up.links...)
	}
	if len(refused) > 0 {
		p.Report.Refusals = refusalReports(refused, inv, img.Name)
		return p.skip(refused)
	}
	cl.units = p.Claims
	notices, err := checkHost(img, inv, cl)
	if err != nil {
		return p.skip(err)
	}
	p.Report.Notices = append(p.Report.Notices, notices...)
	p.Report.Layers = layerReports(img)
	p.Report.Grants = cl.grants()
	p.Files = append(append(dropins, units...), links...)
	for i := range p.Files {
		p.Files[i].Image = img.Name
	}
	p.Report.Digests = unitDigests(p.Report.Units, p.Files, img.Identity)
	return p
}

// unitPlan is what one unit adds to its image's output.
type unitPlan struct {
	dropins []File   // 10-profile.conf (services), 20-portable.conf
	links   []File   // enablement links and aliases (Enable=yes)
	aliases []string // the Alias= names the links give it
	claims  []policy.Claim
	keep    bool // its grants must outlive a reboot (KeepUnit)
	notices []string
}

// planUnit parses one unit, turns its [Install] section into links when
// the image is enabled, and judges the unit PID 1 will load: the image's
// file with the host's drop-ins for its name and aliases. The error is the
// policy's Refusals, or why the unit cannot be used at all; the notices
// stand either way.
func planUnit(u host.Unit, c *imageCheck, pimg policy.Image) (unitPlan, error) {
	var up unitPlan
	parsed, err := unitfile.Parse(u.Content)
	if err != nil {
		return up, &UnitError{Unit: u.Name, Err: err}
	}
	if c.img.Settings.Enable {
		inst, err := parseInstall(parsed)
		if err != nil {
			return up, &UnitError{Unit: u.Name, Install: true, Err: err}
		}
		up.links, up.aliases, up.notices = installLinks(u.Name, inst, pimg.Prefixes)
	}
	loadNames := append([]string{u.Name}, up.aliases...)
	hostDropIns := c.inv.DropInsFor(loadNames)
	effective := unitfile.Merge(loadNames, parsed, host.UnitSearchPath, hostDropIns)
	up.notices = append(up.notices, replacedDropIns(u.Name, hostDropIns)...)
	narrow, err := policy.Check(u.Name, effective, pimg, c.img.ProfileName(), c.profile)
	if err != nil {
		return up, err
	}
	up.claims = policy.Claims(u.Name, effective, c.profile)
	up.keep = keepsGrants(up.claims, policy.DynamicUser(effective, c.profile))
	if names.UnitType(u.Name) == ".service" {
		up.dropins = append(up.dropins, File{Path: u.Name + ".d/10-profile.conf", Data: profileDropIn(c.img.Profile, narrow)})
	}
	up.dropins = append(up.dropins, File{Path: u.Name + ".d/20-portable.conf", Data: portableDropIn(c.img, u, c.inv, up.keep)})
	return up, nil
}

// refusalReports are the refused lines as the report lists them. A
// refusal's Claim= hint is dropped where the host holds the name: the host
// check would refuse the claim.
func refusalReports(refused policy.Refusals, inv *host.Inventory, image string) []policy.Violation {
	out := make([]policy.Violation, 0, len(refused))
	for _, v := range refused {
		if v.Claim != "" && claimsHeld(inv, image, strings.Fields(strings.TrimPrefix(v.Claim, "Claim="))) {
			v.Claim = ""
		}
		out = append(out, *v)
	}
	return out
}

// claim records a unit name the image puts in the output, once, with the
// prefix that ranks it in a conflict; claimed holds the names recorded so
// far while the image is planned (a set: an image may have up to
// dissect.MaxUnits units, each with its aliases; not kept in the record).
// An instance claims its template too: PID 1 loads an instance from a unit
// file of its own name before the template, so one image's
// foo.bar@a.service would take the instance of another image's
// foo.bar@.service that that image's links start.
func (p *Planned) claim(claimed map[string]bool, name, prefix string) {
	for _, n := range []string{name, names.TemplateOf(name)} {
		if n != "" && !claimed[n] {
			claimed[n] = true
			p.Claims = append(p.Claims, n)
			p.prefixes = append(p.prefixes, prefix)
		}
	}
}

// unitDigests fingerprints, per unit, what was written for it (the unit,
// its drop-ins, the links to it) and the identity of the image it runs
// from: reconcile restarts a running unit whose digest changed.
func unitDigests(units []string, files []File, identity string) []string {
	// The files of each unit, in the order they are written: its own
	// file, its drop-ins under NAME.d/, the links to NAME or ../NAME.
	// Found in one pass over the files: an image of many units costs as
	// many steps, not their square.
	of := make(map[string][]int, len(units))
	for i, f := range files {
		var keys [3]string
		keys[0] = f.Path
		if dir, _, ok := strings.Cut(f.Path, "/"); ok {
			if u, ok := strings.CutSuffix(dir, ".d"); ok {
				keys[1] = u
			}
		}
		keys[2] = strings.TrimPrefix(f.Link, "../")
		for k, key := range keys {
			if key != "" && !slices.Contains(keys[:k], key) {
				of[key] = append(of[key], i)
			}
		}
	}
	out := make([]string, len(units))
	// The lines fmt's "image %q\n" and "%q %q %d\n" would make, built
	// without fmt (a run digests thousands of units): the digests are
	// kept across runs in the state file and must not change.
	var line []byte
	for k, u := range units {
		h := sha256.New()
		line = append(strconv.AppendQuote(append(line[:0], "image "...), identity), '\n')
		h.Write(line)
		for _, i := range of[u] {
			f := files[i]
			line = strconv.AppendQuote(line[:0], f.Path)
			line = strconv.AppendQuote(append(line, ' '), f.Link)
			line = append(strconv.AppendInt(append(line, ' '), int64(len(f.Data)), 10), '\n')
			h.Write(line)
			h.Write(f.Data)
		}
		out[k] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// ownDropIns are the generator's drop-ins of a unit.
var ownDropIns = []string{"10-profile.conf", "20-portable.conf"}

// replacedDropIns are notices for the admin's drop-ins that replace one of
// ours: a file of the same name in a directory of the unit's own (not the
// type's) that PID 1 reads before the generator's. The admin's choice,
// made visible: with 10-profile.conf replaced, the unit runs without the
// profile the policy judged it against.
func replacedDropIns(unit string, dropins []unitfile.DropIn) []string {
	var out []string
	ours := slices.Index(host.UnitSearchPath, "/run/systemd/generator")
	for _, d := range dropins {
		dir, file := path.Split(d.Path)
		unitDir, dirName := path.Split(strings.TrimSuffix(dir, "/"))
		if !slices.Contains(ownDropIns, file) || dirName == unitfile.TypeDropInDir(unit) {
			continue
		}
		if at := slices.Index(host.UnitSearchPath, strings.TrimSuffix(unitDir, "/")); at >= 0 && at < ours {
			out = append(out, fmt.Sprintf("%s: the admin's %s replaces the generator's %s", unit, d.Path, file))
		}
	}
	return out
}

// claimsHeld reports whether the host holds any of the names, as an
// account or below one of the directories PID 1 makes a service's in.
func claimsHeld(inv *host.Inventory, image string, names []string) bool {
	for _, n := range names {
		if inv.AccountHolder(n) != "" {
			return true
		}
		for _, parent := range []string{"/run", "/var/lib", "/var/cache", "/var/log", "/etc"} {
			if inv.PathHolder(parent+"/"+n, image) != "" {
				return true
			}
		}
	}
	return false
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

// SettleConflicts skips images that would put the same unit name into the
// output as another image: the more specific prefix keeps it, then the
// higher search directory, then the lower NAME. Names are settled in
// sorted order, each among its claimants not yet skipped, since skipping
// an image frees its names: a name is contested only if it was before any
// image was skipped, so one pass over the names contested at the start
// settles them all.
func SettleConflicts(ps []*Planned) {
	// Each claim with the prefix it matched, found once: an image may
	// claim a thousand names, and a contested one is ranked by it.
	type claimant struct {
		p      *Planned
		prefix string
	}
	owners := map[string][]claimant{}
	for _, p := range ps {
		if p.Skipped() {
			continue
		}
		for i, c := range p.Claims {
			prefix := ""
			if i < len(p.prefixes) {
				prefix = p.prefixes[i]
			}
			owners[c] = append(owners[c], claimant{p, prefix})
		}
	}
	var contested []string
	for n, o := range owners {
		if len(o) > 1 {
			contested = append(contested, n)
		}
	}
	sort.Strings(contested)
	for _, unit := range contested {
		o := slices.DeleteFunc(owners[unit], func(c claimant) bool { return c.p.Skipped() })
		if len(o) < 2 {
			continue
		}
		sort.SliceStable(o, func(i, j int) bool {
			a, b := o[i], o[j]
			if la, lb := len(a.prefix), len(b.prefix); la != lb {
				return la > lb
			}
			if a.p.rank != b.p.rank {
				return a.p.rank < b.p.rank
			}
			return a.p.Report.Name < b.p.Report.Name
		})
		for _, loser := range o[1:] {
			loser.p.skip(&ConflictError{Unit: unit, Winner: o[0].p.Report.Name, WinnerPath: o[0].p.Report.Path})
		}
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Fail skips an image that could not be put in place.
func (p *Planned) Fail(err error) { p.skip(err) }
