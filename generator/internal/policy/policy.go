// Package policy enforces that an image's unit can only tighten the sandbox
// profile the admin chose, never widen it.
//
// systemd merges a unit's list settings with its drop-ins' (a unit's own
// CapabilityBoundingSet= adds to the profile's), and some settings act
// outside the sandbox altogether: '+' and '!' Exec prefixes run commands
// with full privileges, PID 1 opens StandardOutput=file: paths, ListenSpecial=
// files and EnvironmentFile= and LoadCredential= sources on the host,
// creates and chowns StateDirectory= directories there, and FailureAction=
// can reboot it. Check refuses such units (the generator then skips the
// whole image, naming unit, directive and profile) unless the admin allowed
// the directive for that image with AllowDirectives=, and computes the
// effective value of the list settings it can narrow.
//
// # Whose names
//
// Names a unit may use for host objects PID 1 creates on its behalf (state,
// cache, log, runtime and configuration directories, socket paths, PID
// files, users and groups) must be the image's own: in the image's
// namespace, one of its prefixes alone or followed by '-', '.', '@' or '_'
// (the one definition, package names). An image called foo may have
// StateDirectory=foo and ListenStream=/run/foo/api.sock, never
// StateDirectory=dpkg (PID 1 would hand the host's /var/lib/dpkg to the
// service) or User=messagebus (DynamicUser= reuses a static user of that
// name). Units name other units only as their own or as well-known targets.
//
// # Reading like systemd
//
// The unit is parsed as systemd parses it (unitfile): a policy that read the
// file differently from PID 1 could be walked around with line endings or a
// byte-order mark. Specifiers in names are not expanded, except %p, %N, %n
// and %%, which derive from the unit's own name; a name using any other
// specifier does not count as the image's own.
//
// The "trusted" profile is the admin's deliberate choice of no confinement:
// nothing is checked under it.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Violation says why a unit may not run under a profile.
type Violation struct {
	Unit, Directive, Profile, Why string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("unit %s: %s= %s, which profile %s does not allow (allow it with AllowDirectives=%s in the image's .portable file)",
		v.Unit, v.Directive, v.Why, v.Profile, v.Directive)
}

// Image is what Check knows about the image a unit comes from.
type Image struct {
	// Units are the unit names the image provides: dependencies on them
	// are fine.
	Units []string
	// Prefixes are the image's unit-name prefixes (its NAME, or Match=):
	// the names of host objects the unit may have created for it.
	Prefixes []string
	// Allow are the directives the admin allowed with AllowDirectives=.
	Allow []string
}

// unitCheck is one unit under one profile.
type unitCheck struct {
	name    string // the unit's name
	typ     string // its type suffix, ".service"
	img     Image
	profile *unitfile.File
}

// Check decides whether a unit from an image may run under a profile; see
// the package documentation. narrow is text to append to the profile's
// drop-in: the effective value of the list settings both set.
func Check(unitName string, unit *unitfile.File, img Image, profileName string, profile *unitfile.File) (narrow []byte, err error) {
	if profileName == "trusted" {
		return nil, nil
	}
	c := &unitCheck{name: unitName, img: img, profile: profile}
	if i := strings.LastIndexByte(unitName, '.'); i >= 0 {
		c.typ = unitName[i:]
	}
	allowed := func(key string) bool { return slices.Contains(img.Allow, key) }
	for _, a := range unit.Assignments {
		if allowed(a.Key) || a.Value == "" {
			continue
		}
		for _, rule := range rules {
			if why := rule(c, a); why != "" {
				return nil, &Violation{Unit: unitName, Directive: a.Key, Profile: profileName, Why: why}
			}
		}
	}
	return narrowLists(unit, profile, allowed)
}

// rule returns why an assignment widens the profile, "" if it does not.
type rule func(c *unitCheck, a unitfile.Assignment) string

// rules are applied to every assignment, in order; the first refusal wins.
var rules = []rule{
	forbiddenRule,
	actionRule,
	execRule,
	identityRule,
	ownNamesRule,
	outputRule,
	priorityRule,
	weakeningRule,
	dependencyRule,
	socketRule,
	triggerRule,
	// Issue 11's lower items (ranking.go, journal.go, pathwatch.go).
	rankingRule,
	journalRule,
	pathWatchRule,
}
