package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// narrowLists computes the effective value of list settings that a unit
// and the profile both set. systemd merges such lists (the union of
// allowed entries), so a unit could add capabilities, address families or
// system calls to the profile's; the narrowed line resets the list and
// writes the intersection, which keeps the unit's own tightening.
//
// unit holds the image's lines only: the admin's are not narrowed. The
// reset would also wipe an admin's line of a drop-in applied before the
// profile's (05-caps.conf sorts before 10-profile.conf): readd returns such
// lines of a key, written again after the narrowed ones.
func narrowLists(unit, profile *unitfile.File, allowed func(string) bool, readd func(key string) []string) ([]byte, error) {
	var out strings.Builder
	again := func(key string) {
		for _, v := range readd(key) {
			fmt.Fprintf(&out, "%s=%s\n", key, v)
		}
	}
	for _, key := range []string{"CapabilityBoundingSet", "RestrictAddressFamilies"} {
		if allowed(key) {
			continue
		}
		uvals := unit.Values("Service", key)
		pvals := profile.Values("Service", key)
		if len(uvals) == 0 || len(pvals) == 0 {
			continue
		}
		pset, err := effectiveSet(pvals)
		if err != nil {
			return nil, err
		}
		uset, err := effectiveSet(uvals)
		if err != nil {
			return nil, err
		}
		if slices.Contains(pset, setAll) && slices.Contains(uset, setAll) {
			continue // two deny lists: systemd ANDs them, which is the intersection
		}
		inter := intersect(pset, uset)
		fmt.Fprintf(&out, "%s=\n", key)
		if len(inter) > 0 {
			fmt.Fprintf(&out, "%s=%s\n", key, strings.Join(inter, " "))
		} else if key == "RestrictAddressFamilies" {
			fmt.Fprintf(&out, "%s=none\n", key)
		}
		again(key)
	}
	// System calls: the unit's allow-list entries are kept only where the
	// profile allows the same name; its deny entries always stay.
	if !allowed("SystemCallFilter") {
		uvals := unit.Values("Service", "SystemCallFilter")
		pvals := profile.Values("Service", "SystemCallFilter")
		if len(uvals) > 0 && len(pvals) > 0 {
			var pallow []string
			for _, v := range pvals {
				if !strings.HasPrefix(v, "~") {
					pallow = append(pallow, strings.Fields(v)...)
				}
			}
			var keep, deny []string
			for _, v := range uvals {
				if strings.HasPrefix(v, "~") {
					deny = append(deny, v)
					continue
				}
				for _, w := range strings.Fields(v) {
					if slices.Contains(pallow, w) {
						keep = append(keep, w)
					}
				}
			}
			out.WriteString("SystemCallFilter=\n")
			if len(keep) == 0 {
				keep = pallow
			}
			fmt.Fprintf(&out, "SystemCallFilter=%s\n", strings.Join(keep, " "))
			for _, v := range pvals {
				if strings.HasPrefix(v, "~") {
					fmt.Fprintf(&out, "SystemCallFilter=%s\n", v)
				}
			}
			for _, v := range deny {
				fmt.Fprintf(&out, "SystemCallFilter=%s\n", v)
			}
			again("SystemCallFilter")
		}
	}
	// Architectures: systemd takes the union, and every architecture added
	// to "native" brings its own system call table (on x86-64, the i386
	// socketcall() that RestrictAddressFamilies= cannot filter).
	if !allowed("SystemCallArchitectures") {
		uarch, uerr := unit.Words("Service", "SystemCallArchitectures")
		parch, perr := profile.Words("Service", "SystemCallArchitectures")
		if uerr == nil && perr == nil && len(parch) > 0 {
			var inter []string
			wider := false
			for _, a := range uarch {
				if slices.Contains(parch, a) {
					inter = union(inter, []string{a})
				} else {
					wider = true
				}
			}
			if wider {
				if len(inter) == 0 {
					inter = parch
				}
				fmt.Fprintf(&out, "SystemCallArchitectures=\nSystemCallArchitectures=%s\n", strings.Join(inter, " "))
				again("SystemCallArchitectures")
			}
		}
	}
	if out.Len() == 0 {
		return nil, nil
	}
	return []byte("\n# Narrowed by portable-generator: what the unit asks, within what the profile allows.\n[Service]\n" + out.String()), nil
}

// setAll stands for "every entry": a list that only denies.
const setAll = "\x00all"

// effectiveSet evaluates a capability or address-family list the way
// systemd merges its assignments: positive lines add, "~" lines remove
// (from everything, if nothing was added before), "none" empties.
func effectiveSet(vals []string) ([]string, error) {
	var set []string
	for _, v := range vals {
		deny := strings.HasPrefix(v, "~")
		words := strings.Fields(strings.TrimPrefix(v, "~"))
		if len(words) == 1 && words[0] == "none" {
			set = nil
			continue
		}
		for i, w := range words {
			words[i] = strings.ToUpper(w)
		}
		if !deny {
			set = union(set, words)
			continue
		}
		if set == nil {
			set = []string{setAll}
		}
		set = append(set, prefixAll("-", words)...)
	}
	return set, nil
}

func prefixAll(p string, ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = p + w
	}
	return out
}

func union(a, b []string) []string {
	for _, w := range b {
		if !slices.Contains(a, w) {
			a = append(a, w)
		}
	}
	return a
}

// intersect of a profile set (positive entries, or "all" minus removals)
// and a unit set of the same form.
func intersect(p, u []string) []string {
	members := func(s []string) (all bool, pos, neg []string) {
		for _, w := range s {
			switch {
			case w == setAll:
				all = true
			case strings.HasPrefix(w, "-"):
				neg = append(neg, w[1:])
			default:
				pos = append(pos, w)
			}
		}
		return
	}
	pAll, pPos, pNeg := members(p)
	uAll, uPos, uNeg := members(u)
	var out []string
	in := func(all bool, pos, neg []string, w string) bool {
		return !slices.Contains(neg, w) && (all || slices.Contains(pos, w))
	}
	for _, w := range union(append([]string(nil), pPos...), uPos) {
		if in(pAll, pPos, pNeg, w) && in(uAll, uPos, uNeg, w) {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}
