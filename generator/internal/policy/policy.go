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
// whole image, naming every unit and directive, the profile, and what lifts
// each refusal) unless the admin allowed the directive for that image with
// AllowDirectives=, and computes the effective value of the list settings it
// can narrow.
//
// # What is judged
//
// The unit PID 1 will load: the image's unit merged with the host's
// drop-ins for it (unitfile.Merge). The drop-ins are the admin's, trusted
// and never refused; the image's lines that survive them are judged. A
// single-valued setting the profile's drop-in sets (it comes after the
// unit) is the profile's whatever the image says, so the image asking for
// less (ProtectSystem=full under the profile's strict) is not refused: only
// what can reach outside the image's namespace, or widen what the profile
// cannot override, is.
//
// # Whose names
//
// Names a unit may use for host objects PID 1 creates on its behalf (state,
// cache, log, runtime and configuration directories, socket paths, PID
// files, users and groups) must be the image's own: in the image's
// namespace, one of its prefixes (or a name the admin let it claim with
// Claim=) alone or followed by '-', '.', '@' or '_' (the one definition,
// package names). An image called foo may have StateDirectory=foo and
// ListenStream=/run/foo/api.sock, never StateDirectory=dpkg (PID 1 would
// hand the host's /var/lib/dpkg to the service) or User=messagebus
// (DynamicUser= reuses a static user of that name). Units name other units
// only as their own or as well-known targets. Whether the host holds an
// own name is the host inventory's question (Claims lists them).
//
// # Reading like systemd
//
// The unit is parsed as systemd parses it (unitfile): a policy that read the
// file differently from PID 1 could be walked around with line endings or a
// byte-order mark. Specifiers in names are not expanded, except %p, %N, %n
// and %%, which derive from the unit's own name, and %i and %j after an own
// name and a separator (foo-%i, /run/foo/%i.pid): an instance name holds no
// '/', so it cannot leave the own name. A name using any other specifier
// (%I, %H) does not count as the image's own.
//
// The "trusted" profile is the admin's deliberate choice of no confinement:
// nothing is checked under it.
package policy

import (
	"path"
	"slices"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

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
	// Claims are names outside the prefixes the admin let the image use
	// as its own (Claim=: accounts, directories), "redis" for an image
	// redis-server.
	Claims []string
}

// unitCheck is one unit under one profile.
type unitCheck struct {
	name    string // the unit's name
	typ     string // its type suffix, ".service"
	img     Image
	profile *unitfile.File
	unit    *unitfile.File // the effective unit, for rules that read one line against another
}

// Check decides whether a unit from an image may run under a profile; see
// the package documentation. unit is the unit as PID 1 will load it
// (unitfile.Merge: the image's file and the host's drop-ins); only the
// image's lines are judged. The error is Refusals, every line refused;
// narrow is text to append to the profile's drop-in: the effective value of
// the list settings both set.
func Check(unitName string, unit *unitfile.File, img Image, profileName string, profile *unitfile.File) (narrow []byte, err error) {
	if profileName == "trusted" {
		return nil, nil
	}
	c := &unitCheck{name: unitName, typ: names.UnitType(unitName), img: img, profile: profile, unit: unit}
	var refused Refusals
	for _, a := range unit.Assignments {
		if a.Origin != "" || (a.Value == "" && !emptyMeansSomething[a.Key]) || slices.Contains(img.Allow, a.Key) {
			continue
		}
		if why := c.judge(a); why != "" {
			refused = append(refused, c.violation(a, profileName, why, unit))
		}
	}
	if len(refused) > 0 {
		return nil, refused
	}
	allowed := func(key string) bool { return slices.Contains(img.Allow, key) }
	return narrowLists(imageLines(unit), profile, allowed, func(key string) []string { return adminBeforeProfile(unit, key) })
}

// imageLines is the part of an effective unit that comes from the image.
func imageLines(unit *unitfile.File) *unitfile.File {
	out := &unitfile.File{Assignments: make([]unitfile.Assignment, 0, len(unit.Assignments))}
	for _, a := range unit.Assignments {
		if a.Origin == "" {
			out.Assignments = append(out.Assignments, a)
		}
	}
	return out
}

// profileDropIn is the file name of the generator's profile drop-in.
const profileDropIn = "10-profile.conf"

// adminBeforeProfile returns the values of key the admin's drop-ins set
// that PID 1 applies before the profile's drop-in: those of files whose
// names sort before it.
func adminBeforeProfile(unit *unitfile.File, key string) []string {
	var out []string
	for _, a := range unit.Assignments {
		if a.Origin != "" && a.Section == "Service" && a.Key == key && path.Base(a.Origin) < profileDropIn {
			out = append(out, a.Value)
		}
	}
	return out
}

// emptyMeansSomething are the settings an empty assignment turns on rather
// than resets: "Delegate=" is Delegate=yes (systemd --test shows it on 252
// and 257).
var emptyMeansSomething = map[string]bool{"Delegate": true}

// judge returns why an assignment widens the profile: the first rule for
// its directive that refuses it, "" if none does.
func (c *unitCheck) judge(a unitfile.Assignment) string {
	for _, i := range rulesJudging(a.Key) {
		if why := rules[i].judge(c, a); why != "" {
			return why
		}
	}
	return ""
}

// rulesByKey are the rules that judge each directive some rule names,
// by their index in rules, in its order; commandRules those that judge
// any other command setting. Found once: a run judges every assignment of
// thousands of units, and asking each rule in turn compared each key with
// every directive of every rule.
var rulesByKey, commandRules = indexRules()

func indexRules() (map[string][]int, []int) {
	byKey := map[string][]int{}
	var commands []int
	for i, r := range rules {
		for _, k := range r.keys {
			if _, done := byKey[k]; !done {
				byKey[k] = judging(k)
			}
		}
		if slices.Contains(r.keys, "Exec*") {
			commands = append(commands, i)
		}
	}
	return byKey, commands
}

// judging asks every rule whether it judges key.
func judging(key string) []int {
	var out []int
	for i, r := range rules {
		if r.judges(key) {
			out = append(out, i)
		}
	}
	return out
}

// rulesJudging returns the rules that judge key, by their index in rules.
func rulesJudging(key string) []int {
	if rs, ok := rulesByKey[key]; ok {
		return rs
	}
	if unitfile.IsCommand(key) {
		return commandRules
	}
	return nil
}

// rule refuses some assignments of its directives. keys are every
// directive it judges ("Exec*": every command setting): a rule is never
// asked about another, so the list is exactly what it can refuse, and
// the README's list of refusals is checked against it.
type rule struct {
	keys  []string
	judge func(c *unitCheck, a unitfile.Assignment) string
}

func (r rule) judges(key string) bool {
	return slices.Contains(r.keys, key) || (unitfile.IsCommand(key) && slices.Contains(r.keys, "Exec*"))
}

// rules are applied to every assignment, in order; the first refusal wins.
var rules = []rule{
	{keysOf(forbidden), forbiddenRule},
	{append(append([]string{}, actions...), "RebootArgument", "OnFailureJobMode", "OnSuccessJobMode", "RefuseManualStop",
		"IgnoreOnIsolate", "SurviveFinalKillSignal", "KillMode"), actionRule},
	{[]string{"Exec*"}, execRule},
	{[]string{"User", "Group", "SupplementaryGroups"}, identityRule},
	{append(append([]string{}, execDirectories...), "PIDFile"), ownNamesRule},
	{[]string{"StandardInput", "StandardOutput", "StandardError"}, outputRule},
	{[]string{"CPUSchedulingPolicy", "IOSchedulingClass", "ManagedOOMPreference", "Nice", "OOMScoreAdjust"}, priorityRule},
	{append(append(append([]string{}, pullingDeps...), actingDeps...), "Before", "Sockets", "RequiredBy", "UpheldBy", "Slice"), dependencyRule},
	{[]string{"Symlinks", "ListenSpecial", "ListenNetlink", "ListenMessageQueue", "ListenUSBFunction", "ListenFIFO", "ListenStream",
		"ListenDatagram", "ListenSequentialPacket", "ReusePort", "Transparent", "Mark", "SmackLabel", "SmackLabelIPIn", "SmackLabelIPOut"}, socketRule},
	{[]string{"Unit", "Service", "MakeDirectory", "WakeSystem"}, triggerRule},
	// Issue 11's lower items (ranking.go, journal.go, pathwatch.go).
	{append(append(append(keysOf(defaultWeights), keysOf(defaultDeviceWeights)...), memoryProtections...),
		"IODeviceLatencyTargetSec", "LimitMEMLOCK"), rankingRule},
	{[]string{"LogNamespace", "SyslogIdentifier", "LogExtraFields"}, journalRule},
	{pathWatches, pathWatchRule},
	{pathConditions, conditionRule},
	{mountsFor, mountsForRule},
	{[]string{"BusName"}, busNameRule},
}

// Directives returns every directive some rule may refuse, sorted ("Exec*"
// stands for every command setting).
func Directives() []string {
	var out []string
	for _, r := range rules {
		for _, k := range r.keys {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
