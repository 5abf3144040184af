package plan

import (
	"fmt"
	"path"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/policy"
)

// PrefixHeldError is an image prefix the host has taken: a host unit is in
// its namespace (an image called dbus on a host with dbus.service).
type PrefixHeldError struct {
	Prefix, HostUnit, Where string
}

func (e *PrefixHeldError) Error() string {
	return fmt.Sprintf("prefix %q belongs to the host: host unit %s (%s) is in its namespace (rename the image, or set Match= in its .portable file)",
		e.Prefix, e.HostUnit, e.Where)
}

// OwnPrefix is the generator's own namespace: the units it writes for
// itself (KeepUnit, LateUnit, the container's log unit) and the package's.
// An image's unit of such a name would take our unit's place, or give it
// the image's drop-ins, RootImage= included.
const OwnPrefix = "portable-generator"

// OwnNameError is an image's unit named in the generator's own namespace.
type OwnNameError struct{ Unit string }

func (e *OwnNameError) Error() string {
	return fmt.Sprintf("unit %s belongs to the host: portable-generator keeps the %s-* names for its own units", e.Unit, OwnPrefix)
}

// HostHoldsError is a name the image would use that the host holds.
type HostHoldsError struct {
	Unit      string // the image's unit that claims it
	Directive string // the setting that claims it, "" for the unit name itself
	Claim     string // the unit name, account or path claimed
	Holder    string // what and where the host holds
	hint      string // what the admin can do about it, with a leading space
	pulled    bool   // no unit of the name exists: a host hook names it (Wants=, Alias=, SystemdService=)
}

func (e *HostHoldsError) Error() string {
	if e.Directive == "" && e.pulled {
		return fmt.Sprintf("unit %s belongs to the host (%s), which keeps the name for a package that provides it", e.Claim, e.Holder)
	}
	if e.Directive == "" {
		return fmt.Sprintf("unit %s already exists on the host in %s%s", e.Claim, e.Holder, e.hint)
	}
	return fmt.Sprintf("unit %s: %s= claims %s, which the host holds (%s)", e.Unit, e.Directive, e.Claim, e.Holder)
}

// unitHint tells the admin what to do about a host unit in the way.
func unitHint(unit string, h host.UnitFile) string {
	switch dir := path.Dir(h.Path); {
	case dir == "/etc/systemd/system.attached" || dir == "/run/systemd/system.attached":
		return " (attached by portablectl: portablectl detach the image that provides it)"
	case (dir == "/etc/systemd/system" || dir == "/run/systemd/system") && h.AliasOf == "":
		return fmt.Sprintf(" (to change a generated unit, add a drop-in with systemctl edit %s instead of a copy)", unit)
	}
	return ""
}

// claims collects what one image's units claim, for the host check and
// the grants of the state file.
type claims struct {
	units    []string // unit names and aliases
	byPolicy []unitClaim
}

type unitClaim struct {
	unit string
	policy.Claim
}

// checkHost is the host namespace rule: an image's prefixes, unit names,
// accounts and paths must be held by nothing on the host. It returns the
// first collision (the image is skipped whole) and the notices of masked
// units.
func checkHost(img *host.Image, inv *host.Inventory, cl claims) (notices []string, err error) {
	for _, u := range cl.units {
		if names.InNamespace(u, []string{OwnPrefix}) {
			return nil, &OwnNameError{Unit: u}
		}
		if h, ok := inv.UnitHolder(u); ok {
			return nil, &HostHoldsError{Claim: u, Holder: h.String(), hint: unitHint(u, h), pulled: h.PulledBy != ""}
		}
		if mask, ok := inv.Masks[u]; ok {
			notices = append(notices, fmt.Sprintf("%s is masked by the admin (%s)", u, mask))
		}
	}
	for _, p := range img.Prefixes() {
		if u := inv.PrefixHolder(p); u != "" {
			h, _ := inv.UnitHolder(u)
			return nil, &PrefixHeldError{Prefix: p, HostUnit: u, Where: h.String()}
		}
	}
	for _, c := range cl.byPolicy {
		var holder string
		switch {
		case c.Kind == policy.ClaimAccount && c.Prefix:
			holder = accountPrefixHolder(inv, c.Name)
		case c.Kind == policy.ClaimAccount:
			if where := inv.AccountHolder(c.Name); where != "" {
				holder = "account " + c.Name + " in " + where
			}
		case c.Kind == policy.ClaimBusName:
			if unit := inv.BusNameHolder(c.Name, c.Prefix); unit != "" {
				holder = "BusName= of " + unit
			}
		case c.Prefix:
			holder = inv.PathPrefixHolder(c.Name, grantee(img, c.Claim))
		default:
			holder = inv.PathHolder(c.Name, grantee(img, c.Claim))
		}
		if holder != "" {
			claim := c.Name
			if c.Prefix {
				claim += "…"
			}
			return nil, &HostHoldsError{Unit: c.unit, Directive: c.Directive, Claim: claim, Holder: holder}
		}
	}
	return notices, nil
}

// grantee is the image whose earlier grants may cover a path claim: none
// for a DynamicUser= unit's state, cache and log directories. systemd keeps
// those below private/ behind a link of the public name (the layout
// host.PathHolder takes for the image's own), so a plain directory of the
// name was made by someone else, whatever an earlier run granted: a package
// installed after the image first attached (/var/lib/php, its session
// files), which PID 1 would move into private/ and chown to the image's
// user. Other grants stand: a trusted unit's own plain /var/lib/NAME, a
// running service's /run/NAME.
func grantee(img *host.Image, c policy.Claim) string {
	if c.Dynamic && c.Kind == policy.ClaimPath && !strings.HasPrefix(c.Name, "/run/") && !strings.HasPrefix(c.Name, "/etc/") {
		return ""
	}
	return img.Name
}

// accountPrefixHolder names the host account that starts with prefix and
// sorts first, "" if none: the same one at every run.
func accountPrefixHolder(inv *host.Inventory, prefix string) string {
	first := ""
	for name := range inv.Accounts {
		if strings.HasPrefix(name, prefix) && (first == "" || name < first) {
			first = name
		}
	}
	if first == "" {
		return ""
	}
	return "account " + first + " in " + inv.Accounts[first]
}

// grants are the paths a run grants an image: what its units claim below
// /run, /var/lib, … ("/run/foo", or "/run/foo-*" for a name with an
// instance), so the next run takes what the image's services made there for
// the image's own.
func (cl claims) grants() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cl.byPolicy {
		if c.Kind != policy.ClaimPath {
			continue
		}
		g := c.Name
		if c.Prefix {
			g += "*"
		}
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}
