package host

import (
	"io/fs"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// A vendor's unit may pull in a unit no package of the host provides yet: a
// hook that some package fills when installed (graphical.target, Debian's
// default.target, wants display-manager.service, which a display manager's
// package provides as an alias). Such a name is the host's too: an image's
// unit of that name would be started by the host at every boot, without
// Enable=yes, and take the place the hook keeps for a package. The admin's
// own units (/etc, /run) may pull in an image's unit: that is how an admin
// ties a host unit to a portable service, so only the vendor directories
// count. So does a name a vendor unit takes as its alias once enabled
// (Alias=, in [Install]: ssh.service's sshd.service, redis-server.service's
// redis.service, networkd's dbus-org.freedesktop.network1.service): the
// package's before the admin enables it, and what the host's hooks (the
// bus's activation files, dbus.go) start by that name.

// vendorUnitDirs are the unit directories packages install into.
var vendorUnitDirs = []string{"/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// pullKeys are the settings, by section, by which a unit makes PID 1 load
// and start other units, or names itself once enabled. A slice, in a fixed
// order: when one file names a unit under two settings, the skip reason
// names the same one at every run.
var pullKeys = []struct {
	section string
	keys    []string
}{
	{"Unit", []string{"Wants", "Requires", "Requisite", "BindsTo", "Upholds", "PartOf", "OnFailure", "OnSuccess"}},
	{"Socket", []string{"Service"}},
	{"Timer", []string{"Unit"}},
	{"Path", []string{"Unit"}},
	{"Install", []string{"Alias"}},
}

// maxVendorUnit bounds what is read of one vendor unit file.
const maxVendorUnit = unitfile.MaxLine

// readPulled holds the names vendor units pull in that no unit directory
// holds already (as a unit, or as a template of the instance pulled in).
//
// It also holds the bus names host services watch (Inventory.BusNames),
// from the vendor's units and the admin's own unit files, each file read
// once for both. The directories readUnits listed (listed) are not listed
// again.
func (r Root) readPulled(inv *Inventory, listed dirListings) {
	var files []string
	// list adds a listing's regular unit files, of type typ ("" for all).
	// The entries are readUnits' (listed): only read, never filtered in
	// place.
	list := func(typ string) func(d string, ents []fs.DirEntry) {
		return func(d string, ents []fs.DirEntry) {
			for _, e := range ents {
				// Symlinks are aliases (their target is read under its
				// own name) or masks.
				if e.Type().IsRegular() && names.ValidAnyUnitName(e.Name()) && (typ == "" || path.Ext(e.Name()) == typ) {
					files = append(files, path.Join(d, e.Name()))
				}
			}
		}
	}
	r.unitDirEntries(listed, vendorUnitDirs, list(""))
	vendor := len(files)
	// Of the admin's, the services alone: read for their BusName=.
	r.unitDirEntries(listed, adminUnitDirs, list(".service"))
	read := make([]hostUnit, len(files))
	parallel(hostReaders, len(files), func(i int) { read[i] = r.readHostUnit(files[i]) })
	// Held in the order the files were listed: the first unit to pull a
	// name in is the one a skip names.
	for i, p := range files {
		if i < vendor {
			for _, pl := range read[i].pulls {
				if _, held := inv.UnitHolder(pl.unit); !held {
					inv.holdUnit(pl.unit, UnitFile{Path: p, PulledBy: pl.key})
				}
			}
		}
		if b := read[i].busName; b != "" && inv.BusNames[b] == "" {
			inv.BusNames[b] = p
		}
	}
}

// hostReaders is how many host files are read at once where there are
// hundreds (every vendor unit): at boot the cache is cold, and one read
// after another leaves the disk idle between them.
const hostReaders = 8

// parallel calls f(i) for every i below n, on up to width goroutines,
// and returns when all have returned.
func parallel(width, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(width, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

type pull struct{ unit, key string }

// hostUnit is what readHostUnit finds in one host unit file.
type hostUnit struct {
	pulls   []pull
	busName string // its service's BusName=, "" if none
}

// readHostUnit reads the unit file at p for the units of an exported type
// it pulls in (for a name with a specifier in its instance,
// OnFailure=notify@%n.service, the template) and its BusName=.
func (r Root) readHostUnit(p string) hostUnit {
	data, err := r.readRegular(p, maxVendorUnit)
	if err != nil {
		return hostUnit{}
	}
	u, err := unitfile.Parse(data)
	if err != nil {
		return hostUnit{}
	}
	var busName string
	if path.Ext(p) == ".service" {
		busName, _ = u.Last("Service", "BusName") // a single-valued setting
	}
	return hostUnit{pulls: pulledBy(u), busName: busName}
}

// pulledBy returns the units of an exported type unit u pulls in.
func pulledBy(u *unitfile.File) []pull {
	var out []pull
	for _, pk := range pullKeys {
		for _, key := range pk.keys {
			words, _ := u.Words(pk.section, key)
			for _, w := range words {
				if strings.Contains(w, "%") {
					at := strings.IndexByte(w, '@')
					if at < 0 {
						continue
					}
					w = names.TemplateOf(w[:at+1] + "x" + path.Ext(w))
				}
				if names.ValidUnitName(w) {
					out = append(out, pull{w, key})
				}
			}
		}
	}
	return out
}
