package host

import (
	"os"
	"path"

	"github.com/portable-generator/portable-generator/dissect"
)

// Inventory is what the generator knows of the machine it runs for, read
// once per run.
type Inventory struct {
	// SystemdVersion decides version-dependent lines; 0 means the newest.
	SystemdVersion int
	// Architecture is the native architecture in systemd's naming.
	Architecture string
	// VendorUnits maps unit names found in vendor and portablectl unit
	// directories to the directory: an image unit of that name conflicts.
	VendorUnits map[string]string
	// AdminUnits maps unit names the admin placed in /etc/systemd/system or
	// /run/systemd/system (files or masks) to their path: they override ours.
	AdminUnits map[string]string
}

// vendorUnitDirs hold units an image must never replace: the vendor's and
// those portablectl attached.
var vendorUnitDirs = []string{
	"/usr/lib/systemd/system",
	"/usr/local/lib/systemd/system",
	"/lib/systemd/system",
	"/etc/systemd/system.attached",
	"/run/systemd/system.attached",
}

// adminUnitDirs hold the admin's overrides (systemctl mask, edit --full).
var adminUnitDirs = []string{"/etc/systemd/system", "/run/systemd/system"}

// ReadInventory reads the inventory from the root. systemdVersion and arch
// override what the root says when set.
func (r Root) ReadInventory(systemdVersion int, arch string) *Inventory {
	inv := &Inventory{
		VendorUnits:    r.hostUnits(vendorUnitDirs),
		AdminUnits:     r.hostUnits(adminUnitDirs),
		SystemdVersion: systemdVersion,
		Architecture:   arch,
	}
	if inv.SystemdVersion == 0 {
		inv.SystemdVersion = r.SystemdVersion()
	}
	if inv.Architecture == "" {
		inv.Architecture = dissect.NativeArchitecture()
	}
	return inv
}

// hostUnits lists the unit names (files and symlinks, not drop-in or
// .wants directories) in dirs, mapped to the path of the first one.
func (r Root) hostUnits(dirs []string) map[string]string {
	out := map[string]string{}
	for _, d := range dirs {
		ents, err := os.ReadDir(r.Path(d))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			if _, ok := out[e.Name()]; !ok {
				out[e.Name()] = path.Join(d, e.Name())
			}
		}
	}
	return out
}
