package host

import (
	"io/fs"
	"path"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// The system bus starts a service on the first call to its bus name: its
// activation file (/usr/share/dbus-1/system-services/NAME.service) names the
// unit the bus has PID 1 start, SystemdService=U. That name is a hook of the
// host's: Debian's systemd ships the file of org.freedesktop.network1 for
// networkd, whose alias dbus-org.freedesktop.network1.service exists only
// once the admin enables networkd; until then no unit holds the name, and
// any client of the bus name (networkctl) would start an image's unit of
// that name, as the host's own hook.

// busServiceDirs are where the system bus (dbus-daemon, dbus-broker) reads
// activation files.
var busServiceDirs = []string{"/usr/local/share/dbus-1/system-services", "/usr/share/dbus-1/system-services", "/lib/dbus-1/system-services"}

// maxBusService bounds what is read of one activation file: a few lines.
const maxBusService = unitfile.MaxLine

// readBusActivation holds the units the bus's activation files name that
// no unit directory holds already.
func (r Root) readBusActivation(inv *Inventory) {
	r.unitDirEntries(nil, busServiceDirs, func(d string, ents []fs.DirEntry) {
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".service") || e.IsDir() {
				continue
			}
			p := path.Join(d, e.Name())
			data, err := r.readRegular(p, maxBusService)
			if err != nil {
				continue
			}
			f, err := unitfile.Parse(data)
			if err != nil {
				continue
			}
			if u, ok := f.Last("D-BUS Service", "SystemdService"); ok && names.ValidUnitName(u) {
				if _, held := inv.UnitHolder(u); !held {
					inv.holdUnit(u, UnitFile{Path: p, PulledBy: "SystemdService"})
				}
			}
		}
	})
}
