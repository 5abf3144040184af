package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/internal/boolean"
)

// Violation is one line of an image's unit that may not run under a
// profile, with what would lift the refusal. Every way it names is exact:
// Check proves it lifts this refusal before offering it.
type Violation struct {
	Unit      string `json:"unit"`
	Section   string `json:"section"`
	Directive string `json:"directive"`
	Value     string `json:"value"`
	Line      int    `json:"line"` // in the unit file
	Profile   string `json:"profile"`
	Why       string `json:"why"`
	// Allow is the line for the image's .portable file that lifts it
	// ("AllowDirectives=User"): always there.
	Allow string `json:"allow"`
	// Claim is the line for the .portable file that lifts it by making
	// the names it uses the image's ("Claim=redis"), when that does.
	Claim string `json:"claim,omitempty"`
	// DropIn is the drop-in for the unit that lifts it by removing the
	// image's line ("[Service]\nUser=\n"), when one can: the admin adds
	// it with `systemctl edit UNIT`, followed by lines of their own.
	DropIn string `json:"dropin,omitempty"`
}

func (v *Violation) Error() string {
	return fmt.Sprintf("unit %s: %s=%s %s, which profile %s does not allow (%s)",
		v.Unit, v.Directive, v.Value, v.Why, v.Profile, v.Lifts())
}

// Lifts says, for people, what lifts the refusal.
func (v *Violation) Lifts() string {
	s := "lift it with " + v.Allow
	if v.Claim != "" {
		s += " or " + v.Claim
	}
	s += " in the image's .portable file"
	if v.DropIn != "" {
		s += ", or with a drop-in (systemctl edit " + v.Unit + ") holding " + strconv.Quote(strings.TrimSuffix(v.DropIn, "\n"))
	}
	return s
}

// Refusals are every refused line of a unit, or of an image's units, in
// order.
type Refusals []*Violation

func (r Refusals) Error() string {
	if len(r) == 1 {
		return r[0].Error()
	}
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = v.Error()
	}
	return fmt.Sprintf("%d lines refused: %s", len(r), strings.Join(parts, "; "))
}

// Unwrap gives errors.As and errors.Is each violation.
func (r Refusals) Unwrap() []error {
	out := make([]error, len(r))
	for i, v := range r {
		out[i] = v
	}
	return out
}

// violation describes a refused assignment and finds what lifts it.
func (c *unitCheck) violation(a unitfile.Assignment, profile, why string, unit *unitfile.File) *Violation {
	v := &Violation{
		Unit: c.name, Section: a.Section, Directive: a.Key, Value: a.Value, Line: a.Line,
		Profile: profile, Why: why, Allow: "AllowDirectives=" + a.Key,
	}
	if names := c.claimable(a); len(names) > 0 {
		v.Claim = "Claim=" + strings.Join(names, " ")
	}
	if d := liftingDropIn(a); d != "" && c.removes(unit, a, d) {
		v.DropIn = d
	}
	return v
}

// claimable returns the names outside the image's namespace an assignment
// uses, when claiming them (Claim=) makes every rule accept it.
func (c *unitCheck) claimable(a unitfile.Assignment) []string {
	var found []string
	words, err := unitfile.SplitWords(a.Value)
	if err != nil {
		return nil
	}
	for _, w := range words {
		for _, part := range strings.Split(w, ":") {
			part = strings.TrimPrefix(strings.TrimPrefix(part, "-"), "@")
			for _, parent := range []string{"/run/", "/var/run/"} {
				part = strings.TrimPrefix(part, parent)
			}
			first, _, _ := strings.Cut(part, "/")
			if lit, _, spec := strings.Cut(first, "%"); spec {
				// redis-%i: the name before the separator is claimed.
				first = strings.TrimRight(lit, names.NamespaceSeparators)
			}
			if first == "" || first == "." || first == ".." || strings.ContainsAny(first, "=*?[") ||
				c.ownName(first) || slices.Contains(found, first) {
				continue
			}
			found = append(found, first)
		}
	}
	if len(found) == 0 {
		return nil
	}
	claimed := *c
	claimed.img.Claims = append(append([]string(nil), c.img.Claims...), found...)
	if claimed.judge(a) != "" {
		return nil
	}
	return found
}

// liftingDropIn is a drop-in that takes the image's line out of force:
// an empty assignment for lists and single values that reset on it, the
// default for the others PID 1 reads; none for what no drop-in can remove
// (dependencies).
func liftingDropIn(a unitfile.Assignment) string {
	value, ok := "", true
	switch unitfile.KindOf(a.Section, a.Key) {
	case unitfile.List, unitfile.Single:
	case unitfile.Last:
		if _, isBool := boolean.Parse(a.Value); isBool {
			value = "no"
		} else {
			value, ok = lastDefaults[a.Key]
		}
	default:
		ok = false
	}
	if !ok {
		return ""
	}
	return "[" + a.Section + "]\n" + a.Key + "=" + value + "\n"
}

// lastDefaults are systemd's defaults of the refused settings that ignore
// an empty assignment.
var lastDefaults = map[string]string{
	"StandardInput": "null", "StandardOutput": "journal", "StandardError": "inherit",
	"FailureAction": "none", "SuccessAction": "none", "JobTimeoutAction": "none",
	"OnFailureJobMode": "replace", "OnSuccessJobMode": "fail", "ManagedOOMPreference": "none",
}

// removes reports whether the drop-in d, after the unit's own, leaves the
// image's line a out of force.
func (c *unitCheck) removes(unit *unitfile.File, a unitfile.Assignment, d string) bool {
	const dir = "/etc/systemd/system"
	merged := unitfile.Merge([]string{c.name}, unit, []string{dir}, []unitfile.DropIn{{Path: dir + "/" + c.name + ".d/override.conf", Data: []byte(d)}})
	for _, m := range merged.Assignments {
		if m == a {
			return false
		}
	}
	return true
}
