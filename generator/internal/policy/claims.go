package policy

import (
	"path"
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/internal/boolean"
)

// ClaimKind says what sort of host name a claim is.
type ClaimKind int

// The kinds of names a unit makes PID 1 use on the host.
const (
	ClaimAccount ClaimKind = iota // a user or group
	ClaimPath                     // an entry below /run, /var/lib, /var/cache, /var/log or /etc
	ClaimBusName                  // a D-Bus name a service's BusName= makes PID 1 watch
)

// Claim is a host name a unit makes PID 1 create or use on the service's
// behalf. The host inventory decides whether the host already holds it: the
// policy's rules decide only whether it is in the image's namespace.
type Claim struct {
	Kind ClaimKind
	// Name is an account name, or an absolute path one level below a
	// parent of pathParents ("/run/foo", "/var/lib/private/foo").
	Name string
	// Prefix is set when the name continues with an instance or another
	// specifier whose value is not known: every host name starting with
	// Name is then claimed.
	Prefix bool
	// Directive is the unit's setting that makes the claim.
	Directive string
	// Dynamic is set when the unit runs under DynamicUser=: systemd then
	// keeps its state, cache and log directories below private/, behind a
	// link of the public name.
	Dynamic bool
}

// pathParents are where PID 1 creates what the directory settings,
// listeners and PID files name.
var pathParents = []string{"/run", "/var/lib", "/var/cache", "/var/log", "/etc"}

// directoryParents maps each directory setting to where PID 1 creates it.
var directoryParents = map[string]string{
	"RuntimeDirectory":       "/run",
	"StateDirectory":         "/var/lib",
	"CacheDirectory":         "/var/cache",
	"LogsDirectory":          "/var/log",
	"ConfigurationDirectory": "/etc",
}

// Claims lists the host names a unit's image lines claim, as PID 1 would
// load it (unit merged with the host's drop-ins, unitfile.Merge) with the
// profile's drop-in after it: under DynamicUser= the accounts it runs as
// (User=, Group=, SupplementaryGroups=, and the name DynamicUser= derives
// from the unit's when User= is not set), the directories PID 1 creates for it, the
// socket and FIFO paths PID 1 binds, and its PIDFile=.
func Claims(unitName string, unit, profile *unitfile.File) []Claim {
	c := &unitCheck{name: unitName, typ: names.UnitType(unitName)}
	var out []Claim
	dynamic := DynamicUser(unit, profile)
	user, _ := lastOf("Service", "User", unit, profile)
	if c.typ == ".service" && dynamic && user == "" {
		if n := names.DynamicUserName(unitName); n != "" {
			out = append(out, Claim{Kind: ClaimAccount, Name: n, Directive: "DynamicUser"})
		}
	}
	for _, a := range unit.Assignments {
		// The admin's own lines (a drop-in's) claim nothing for the image:
		// naming a host account or directory there is the admin's choice.
		if a.Origin != "" {
			continue
		}
		if a.Section == "Unit" && slices.Contains(mountsFor, a.Key) {
			// The image's own directories it asks PID 1 to mount the
			// host's file systems for (mountsForRule lets only those
			// through): a host entry of the name is someone else's, a
			// noauto file system the admin keeps there among them.
			words, _ := unitfile.SplitWords(a.Value)
			for _, p := range words {
				if cl, ok := c.pathClaim(p); ok {
					cl.Directive = a.Key
					out = append(out, cl)
				}
			}
			continue
		}
		if !execSection(a.Section) && a.Section != "Socket" {
			continue
		}
		switch {
		case (a.Key == "User" || a.Key == "Group" || a.Key == "SupplementaryGroups") && dynamic:
			// Under DynamicUser= a static host account of the name is
			// reused; without it the account must be the host's (the
			// admin's choice of the trusted profile), and is no claim.
			words, _ := unitfile.SplitWords(a.Value)
			for _, w := range words {
				name, prefix := c.claimName(w)
				if name != "" {
					out = append(out, Claim{Kind: ClaimAccount, Name: name, Prefix: prefix, Directive: a.Key})
				}
			}
		case directoryParents[a.Key] != "" && a.Section == "Service":
			for _, parts := range directoryNames(a.Value) {
				for _, d := range parts {
					first, _, _ := strings.Cut(d, "/")
					name, prefix := c.claimName(first)
					if name == "" {
						continue
					}
					parent := directoryParents[a.Key]
					out = append(out, Claim{Kind: ClaimPath, Name: path.Join(parent, name), Prefix: prefix, Directive: a.Key})
					if dynamic && parent != "/run" && parent != "/etc" {
						out = append(out, Claim{Kind: ClaimPath, Name: path.Join(parent, "private", name), Prefix: prefix, Directive: a.Key})
					}
				}
			}
		case a.Section == "Socket" && (a.Key == "ListenStream" || a.Key == "ListenDatagram" || a.Key == "ListenSequentialPacket" || a.Key == "ListenFIFO"),
			a.Section == "Service" && a.Key == "PIDFile":
			if cl, ok := c.pathClaim(a.Value); ok {
				cl.Directive = a.Key
				out = append(out, cl)
			}
		}
	}
	if cl, ok := c.busNameClaim(unit); ok {
		out = append(out, cl)
	}
	for i := range out {
		out[i].Dynamic = dynamic
	}
	return out
}

// busNameClaim is the bus name a service watches (the last BusName=, as
// PID 1 reads it), when the image's line sets it: PID 1 refuses to load a
// second service that watches a name a loaded one watches, so the name is
// the image's only if no host service has it.
func (c *unitCheck) busNameClaim(unit *unitfile.File) (Claim, bool) {
	if c.typ != ".service" {
		return Claim{}, false
	}
	var last *unitfile.Assignment
	for i, a := range unit.Assignments {
		if a.Section == "Service" && a.Key == "BusName" {
			last = &unit.Assignments[i]
		}
	}
	if last == nil || last.Origin != "" {
		return Claim{}, false
	}
	name, prefix := c.claimName(last.Value)
	if name == "" {
		return Claim{}, false
	}
	return Claim{Kind: ClaimBusName, Name: name, Prefix: prefix, Directive: "BusName"}, true
}

// DynamicUser reports whether a unit runs under DynamicUser= once the
// profile's drop-in is applied after it.
func DynamicUser(unit, profile *unitfile.File) bool {
	v, ok := lastOf("Service", "DynamicUser", unit, profile)
	on, _ := boolean.Parse(v)
	return ok && on
}

// claimName expands the unit's own specifiers in a name; when another
// specifier remains, the literal part before it is claimed as a prefix.
func (c *unitCheck) claimName(s string) (name string, prefix bool) {
	if s == "" {
		return "", false
	}
	if full, ok := c.expandOwn(s); ok {
		// %i or %j: every name that starts with the part before it.
		lit, _, instance := strings.Cut(full, instanceMark)
		if !instance || lit != "" {
			return lit, instance
		}
		return "", false
	}
	i := strings.IndexByte(s, '%')
	lit, ok := c.expandOwn(s[:i])
	if !ok || lit == "" {
		return "", false
	}
	return lit, true
}

// pathClaim turns an absolute path below one of pathParents into the claim
// of its first component there.
func (c *unitCheck) pathClaim(p string) (Claim, bool) {
	if !strings.HasPrefix(p, "/") {
		return Claim{}, false
	}
	for _, parent := range pathParents {
		rest, ok := strings.CutPrefix(path.Clean(p), parent+"/")
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(rest, "/")
		name, prefix := c.claimName(first)
		if name == "" {
			return Claim{}, false
		}
		return Claim{Kind: ClaimPath, Name: path.Join(parent, name), Prefix: prefix}, true
	}
	return Claim{}, false
}

// lastOf is the value of a single-valued setting over files applied in
// order (a later file wins).
func lastOf(section, key string, files ...*unitfile.File) (string, bool) {
	v, found := "", false
	for _, f := range files {
		if f == nil {
			continue
		}
		if x, ok := f.Last(section, key); ok {
			v, found = x, true
		}
	}
	return v, found
}
