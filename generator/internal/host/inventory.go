package host

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/state"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Inventory is what the generator knows of the machine it runs for, read
// once per run from the root: its systemd and architecture, and every name
// the host already holds (DESIGN.md, The host namespace). A name an image
// uses is the image's only if it is in the image's namespace and the host
// does not hold it.
type Inventory struct {
	// SystemdVersion decides version-dependent lines; 0 means the newest.
	SystemdVersion int
	// Architecture is the native architecture in systemd's naming.
	Architecture string
	// Units maps unit names the host holds to where: unit files and
	// symlinks in every unit directory PID 1 reads but ours, portablectl's
	// attachments, and SysV scripts (NAME.service).
	Units map[string]UnitFile
	// Masks maps unit names the admin masked (/dev/null or an empty file in
	// /etc/systemd/system or /run/systemd/system) to the mask: such a unit
	// of an image is written, and stays masked.
	Masks map[string]string
	// Accounts maps user and group names to where the host defines them.
	Accounts map[string]string
	// Paths maps the entries the host has directly below /run, /var/lib,
	// /var/cache, /var/log and /etc (and their private/ directories of
	// DynamicUser=) to what they are: "/var/lib/foo" -> "directory".
	Paths map[string]string
	// DropIns maps a drop-in directory's name ("foo.service.d",
	// "foo-.service.d", "service.d") to the *.conf files in it, in every
	// unit directory PID 1 reads but the generators': the admin's
	// adjustments of an image's units, merged into the unit the policy
	// judges (DESIGN.md, The effective unit; DropInsFor).
	DropIns map[string][]unitfile.DropIn
	// BusNames maps the bus names host services watch (BusName=, in the
	// vendor's unit files and the admin's) to the unit file: PID 1 refuses
	// to load a second service watching a name one loaded service watches,
	// so an image's service of the name could keep the host's from
	// loading.
	BusNames map[string]string
	// Previous is the last run's record (this boot's, else the copy kept
	// across reboots), nil if none: the names it granted an image stay
	// the image's.
	Previous *state.File

	// heldPrefixes maps every prefix a host unit name is in the namespace
	// of ("dbus" for dbus.service and dbus-broker.service) to that unit.
	heldPrefixes map[string]string
}

// UnitFile is where the host holds a unit name.
type UnitFile struct {
	Path string // in the root
	// AliasOf is the unit a symlink makes this name an alias of ("" for a
	// unit file or SysV script).
	AliasOf string
	// PulledBy is set when no unit of the name exists and the file at Path
	// names it as a hook: the setting that does (a vendor unit's "Wants"
	// or "Alias", an activation file's "SystemdService").
	PulledBy string
	// Generated is set when the generator at Path writes the unit beside
	// ours (generated.go).
	Generated bool
}

func (u UnitFile) String() string {
	switch {
	case u.AliasOf != "":
		return u.Path + ", an alias of " + u.AliasOf
	case u.PulledBy != "":
		return u.PulledBy + "= of " + u.Path
	case u.Generated:
		return "the output of " + u.Path
	}
	return u.Path
}

// unitDirs are the directories PID 1 reads units from (system scope), but
// for the generator directories: those are emptied before each run and
// filled by generators running at the same time as us.
var unitDirs = slices.DeleteFunc(slices.Clone(UnitSearchPath), func(d string) bool {
	return strings.HasPrefix(d, "/run/systemd/generator")
})

// adminUnitDirs are where a /dev/null mask is the admin overriding us.
var adminUnitDirs = []string{"/etc/systemd/system", "/run/systemd/system"}

// pathParents are the directories below which PID 1 creates directories and
// sockets for services: an image may not claim an entry the host has there.
var pathParents = []string{
	"/run", "/var/lib", "/var/cache", "/var/log", "/etc",
	"/var/lib/private", "/var/cache/private", "/var/log/private",
}

// userdbDirs hold userdb records (NAME.user, NAME.group).
var userdbDirs = []string{"/etc/userdb", "/run/userdb", "/run/host/userdb", "/usr/local/lib/userdb", "/usr/lib/userdb"}

// ReadInventory reads the inventory from the root, for the systemd version
// and architecture the caller settled on (Root.SystemdVersion,
// dissect.NativeArchitecture unless overridden): the caller needs them
// before the inventory is read, and the run uses one answer throughout.
func (r Root) ReadInventory(systemdVersion int, arch string) *Inventory {
	inv := &Inventory{
		SystemdVersion: systemdVersion,
		Architecture:   arch,
		Units:          map[string]UnitFile{},
		Masks:          map[string]string{},
		Accounts:       map[string]string{},
		Paths:          map[string]string{},
		DropIns:        map[string][]unitfile.DropIn{},
		BusNames:       map[string]string{},
		heldPrefixes:   map[string]string{},
	}
	r.readUnits(inv)
	r.readAccounts(inv)
	r.readPaths(inv)
	inv.Previous = r.readPrevious()
	for u := range inv.Units {
		inv.holdPrefixes(u)
	}
	return inv
}

// dirListings are the directories listed so far while the inventory is
// read, by resolved path: readUnits lists every unit directory, and
// readPulled the vendor's and the admin's again for their files, the
// largest directories of the host's. Callers do not change the entries.
type dirListings map[string][]fs.DirEntry

// unitDirEntries lists each of dirs that exists once, by the directory its
// symlinks resolve to (/lib is often /usr/lib), naming it as given. A
// directory in listed is not read again; one read is added to it (listed
// may be nil).
func (r Root) unitDirEntries(listed dirListings, dirs []string, each func(dir string, ents []fs.DirEntry)) {
	seen := map[string]bool{}
	for _, d := range dirs {
		real, err := r.Resolve(d)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		ents, ok := listed[real]
		if !ok {
			if ents, err = r.readDir(real); err != nil {
				continue
			}
			if listed != nil {
				listed[real] = ents
			}
		}
		each(d, ents)
	}
}

func (r Root) readUnits(inv *Inventory) {
	listed := dirListings{}
	r.unitDirEntries(listed, unitDirs, func(d string, ents []fs.DirEntry) {
		admin := d == adminUnitDirs[0] || d == adminUnitDirs[1]
		for _, e := range ents {
			name := e.Name()
			// U.d/ and T.wants/ directories are never holders: drop-ins
			// are how the admin adjusts an image's unit.
			if strings.HasSuffix(name, ".d") && r.isDir(path.Join(d, name), e) {
				r.readDropIns(inv, d, name)
			}
			if e.IsDir() || !names.ValidAnyUnitName(name) {
				continue
			}
			p := path.Join(d, name)
			if admin && r.isMask(p, e) {
				if _, ok := inv.Masks[name]; !ok {
					inv.Masks[name] = p
				}
				continue
			}
			if _, ok := inv.Units[name]; !ok {
				h := UnitFile{Path: p}
				if e.Type()&fs.ModeSymlink != 0 {
					if target, err := r.readlink(p); err == nil {
						h.AliasOf = path.Base(target)
					}
				}
				inv.Units[name] = h
			}
		}
	})
	r.readSysV(inv)
	r.readPulled(inv, listed)
	r.readBusActivation(inv)
	r.readGenerated(inv)
}

// UnitSearchPath is every directory PID 1 reads system units from, highest
// precedence first, the generators' included: it ranks drop-ins of one
// file name against each other (unitfile.Merge). It is the search path
// portabled reads an image's units by (dissect.UnitDirectories), from "/".
var UnitSearchPath = func() []string {
	dirs := make([]string, len(dissect.UnitDirectories))
	for i, d := range dissect.UnitDirectories {
		dirs[i] = "/" + d
	}
	return dirs
}()

// maxDropIn bounds what is read of one drop-in file: systemd's longest
// line; an admin's drop-in is a few lines.
const maxDropIn = unitfile.MaxLine

// readDropIns reads the *.conf files of drop-in directory name in unit
// directory dir, as systemd would: hidden files skipped, a symlink to
// /dev/null or anything unreadable read as empty (it still hides a lower
// file of its name).
func (r Root) readDropIns(inv *Inventory, dir, name string) {
	d := path.Join(dir, name)
	real, err := r.Resolve(d)
	if err != nil {
		return
	}
	ents, err := r.readDir(real)
	if err != nil {
		return
	}
	for _, e := range ents {
		f := e.Name()
		if !strings.HasSuffix(f, ".conf") || strings.HasPrefix(f, ".") {
			continue
		}
		p := path.Join(d, f)
		var data []byte
		if real, err := r.Resolve(p); err == nil && real != "/dev/null" {
			data, _ = r.readRegular(real, maxDropIn+1)
		}
		inv.DropIns[name] = append(inv.DropIns[name], unitfile.DropIn{Path: p, Data: data})
	}
}

// isDir reports whether the entry e at in-root path p is a directory or a
// symlink to one (systemd follows both).
func (r Root) isDir(p string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	real, err := r.Resolve(p)
	if err != nil {
		return false
	}
	fi, err := r.stat(real)
	return err == nil && fi.IsDir()
}

// DropInsFor returns the host's drop-ins for a unit known by names (its
// name, then its aliases): those of their drop-in directories and of
// their type's (unitfile.DropInDirs, TypeDropInDir).
func (inv *Inventory) DropInsFor(names []string) []unitfile.DropIn {
	var out []unitfile.DropIn
	seen := map[string]bool{}
	for _, n := range names {
		for _, d := range append(unitfile.DropInDirs(n), unitfile.TypeDropInDir(n)) {
			if !seen[d] {
				seen[d] = true
				out = append(out, inv.DropIns[d]...)
			}
		}
	}
	return out
}

// isMask reports whether the unit file at in-root path p masks its name:
// a symlink to /dev/null or an empty file, as systemd reads them.
func (r Root) isMask(p string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink != 0 {
		target, err := r.readlink(p)
		return err == nil && target == "/dev/null"
	}
	fi, err := e.Info()
	return err == nil && fi.Mode().IsRegular() && fi.Size() == 0
}

// maxAccountFile bounds what is read of /etc/passwd or /etc/group: far
// more than any host's accounts.
const maxAccountFile = 64 << 20

func (r Root) readAccounts(inv *Inventory) {
	for _, f := range []string{"/etc/passwd", "/etc/group"} {
		data, err := r.readRegular(f, maxAccountFile)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			name, _, ok := strings.Cut(line, ":")
			// "+name" and "-name" are NIS compatibility lines: still names.
			name = strings.TrimLeft(name, "+-")
			if ok && name != "" {
				if _, seen := inv.Accounts[name]; !seen {
					inv.Accounts[name] = f
				}
			}
		}
	}
	for _, d := range userdbDirs {
		ents, _ := r.readDir(d)
		for _, e := range ents {
			n := e.Name()
			base := strings.TrimSuffix(strings.TrimSuffix(n, ".user"), ".group")
			if base == n || base == "" || isDigits(base) {
				continue // not a record, or the uid/gid alias of one
			}
			if _, seen := inv.Accounts[base]; !seen {
				inv.Accounts[base] = path.Join(d, n)
			}
		}
	}
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func (r Root) readPaths(inv *Inventory) {
	for _, d := range pathParents {
		ents, err := r.readDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			inv.Paths[path.Join(d, e.Name())] = kindOf(e)
		}
	}
	// What a DynamicUser= service's directory symlinks point at.
	for p, kind := range inv.Paths {
		if kind != "symlink" {
			continue
		}
		if target, err := r.readlink(p); err == nil {
			inv.Paths[p] = "symlink to " + target
		}
	}
}

func kindOf(e fs.DirEntry) string {
	switch t := e.Type(); {
	case t.IsDir():
		return "directory"
	case t&fs.ModeSymlink != 0:
		return "symlink"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeNamedPipe != 0:
		return "FIFO"
	case t.IsRegular():
		return "file"
	}
	return "special file"
}

// ReadState reads the state file at in-root path p (see HostPath).
func (r Root) ReadState(p string) (*state.File, error) {
	hp, err := r.HostPath(p, true)
	if err != nil {
		return nil, err
	}
	return state.Read(hp)
}

// readPrevious reads this boot's state, else the copy kept across reboots.
func (r Root) readPrevious() *state.File {
	for _, p := range []string{state.RuntimePath, state.PersistentPath} {
		if err := r.CheckChain(path.Dir(p)); err != nil {
			continue // a record anyone could have written grants nothing
		}
		if s, err := r.ReadState(p); err == nil && s != nil {
			return s
		}
	}
	return nil
}

// holdPrefixes records every prefix whose namespace holds unit u. When
// several host units hold one prefix, the one sorting first is named, so
// the reason an admin reads is the same at every run.
func (inv *Inventory) holdPrefixes(u string) {
	hold := func(p string) {
		if held, ok := inv.heldPrefixes[p]; !ok || u < held {
			inv.heldPrefixes[p] = u
		}
	}
	for _, p := range names.PrefixesHolding(u) {
		hold(p)
	}
}

// holdUnit records that the host holds unit name at h, unless a unit
// directory read before already does.
func (inv *Inventory) holdUnit(name string, h UnitFile) {
	if _, ok := inv.Units[name]; !ok {
		inv.Units[name] = h
	}
}

// UnitHolder returns where the host holds unit name (the unit itself, or
// the template an instance of it would be); ok is false if it does not.
func (inv *Inventory) UnitHolder(unit string) (UnitFile, bool) {
	if h, ok := inv.Units[unit]; ok {
		return h, true
	}
	if t := names.TemplateOf(unit); t != "" {
		if h, ok := inv.Units[t]; ok {
			return h, true
		}
	}
	return UnitFile{}, false
}

// PrefixHolder returns a host unit in the namespace of prefix, "" if none:
// such a unit takes the prefix away from any image (an image called dbus
// on a host with dbus.service owns nothing).
func (inv *Inventory) PrefixHolder(prefix string) string {
	if u, ok := inv.heldPrefixes[prefix]; ok {
		return u
	}
	return ""
}

// BusNameHolder returns the host unit file whose service watches bus name
// (with prefix, any name starting with name), "" if none; of several, the
// one first in path order, the same at every run.
func (inv *Inventory) BusNameHolder(name string, prefix bool) string {
	if !prefix {
		return inv.BusNames[name]
	}
	first := ""
	for n, unit := range inv.BusNames {
		if strings.HasPrefix(n, name) && (first == "" || unit < first) {
			first = unit
		}
	}
	return first
}

// AccountHolder returns where the host defines account or group name.
func (inv *Inventory) AccountHolder(name string) string { return inv.Accounts[name] }

// PathHolder returns what the host has at p (a directory or socket below
// /run, /var/lib, …), "" if nothing or if it is image's own: granted to it
// by an earlier run, or systemd's DynamicUser= layout for it (/var/lib/NAME
// a symlink into /var/lib/private/NAME). With image "" no grant counts.
func (inv *Inventory) PathHolder(p, image string) string {
	kind, ok := inv.Paths[p]
	if !ok {
		return ""
	}
	if inv.granted(p, image) {
		return ""
	}
	dir, base := path.Split(p)
	if kind == "symlink to private/"+base && inv.Paths[dir+"private/"+base] != "" {
		return ""
	}
	if dir == "/var/lib/private/" || dir == "/var/cache/private/" || dir == "/var/log/private/" {
		// The target of a DynamicUser= layout: its symlink is judged.
		if inv.Paths[strings.Replace(p, "/private/", "/", 1)] == "symlink to private/"+base {
			return ""
		}
	}
	return kind + " " + p
}

// PathPrefixHolder is PathHolder for a claim of every name starting with
// prefix (a directory named after an instance): the first host entry so
// named that is not the image's own.
func (inv *Inventory) PathPrefixHolder(prefix, image string) string {
	held := ""
	for p := range inv.Paths {
		if strings.HasPrefix(p, prefix) && !inv.granted(p, image) {
			if h := inv.PathHolder(p, image); h != "" && (held == "" || h < held) {
				held = h
			}
		}
	}
	return held
}

// granted reports whether an earlier run granted path p to image, by name
// or by a prefix grant ("/run/foo-*").
func (inv *Inventory) granted(p, image string) bool {
	for _, g := range inv.Previous.GrantsOf(image) {
		if g == p || strings.HasSuffix(g, "*") && strings.HasPrefix(p, strings.TrimSuffix(g, "*")) {
			return true
		}
	}
	return false
}
