package host

import (
	"bufio"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// SysV init scripts hold unit names too: systemd-sysv-generator (252, 257;
// it runs beside us, so its output is not there to see) turns each script
// /etc/init.d/NAME or NAME.sh into NAME.service, and every other name on
// the Provides: line of the script's LSB header into an alias of it. An
// image's unit of such a name would replace the script's service (our
// directory comes before the generator's), and the host's rc links would
// start the image's unit at boot.

// sysvDir holds the scripts.
const sysvDir = "/etc/init.d"

// maxSysVScript bounds what is read of one script: the LSB header is at
// its top.
const maxSysVScript = 1 << 20

// sysvFacilities are LSB facility names, with or without '$': the
// generator makes them targets (or drops them), never aliases.
var sysvFacilities = []string{"local_fs", "network", "named", "portmap", "remote_fs", "syslog", "time"}

// readSysV holds the unit name of every script and its aliases.
func (r Root) readSysV(inv *Inventory) {
	ents, _ := r.readDir(sysvDir)
	for _, e := range ents {
		file := e.Name()
		if e.IsDir() || strings.HasPrefix(file, ".") || strings.ContainsAny(file, "~") || file == "README" || file == "skeleton" {
			continue
		}
		unit := sysvUnitName(file)
		if unit == "" {
			continue
		}
		p := path.Join(sysvDir, file)
		inv.holdUnit(unit, UnitFile{Path: p})
		for _, alias := range r.sysvProvides(p) {
			if alias != unit {
				inv.holdUnit(alias, UnitFile{Path: p, AliasOf: unit})
			}
		}
	}
}

// sysvUnitName is the unit systemd-sysv-generator makes of a script or of
// a Provides: name: without a ".sh" suffix, NAME.service (a name that
// already has a unit type keeps it); "" when that is no valid unit name.
func sysvUnitName(file string) string {
	n := strings.TrimSuffix(file, ".sh")
	if !names.ValidAnyUnitName(n) || !slices.Contains(unitTypes, path.Ext(n)) {
		n += ".service"
	}
	if !names.ValidAnyUnitName(n) {
		return ""
	}
	return n
}

// unitTypes are every unit type suffix systemd knows.
var unitTypes = []string{".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap", ".timer", ".path", ".slice", ".scope"}

// sysvProvides returns the services the Provides: lines of the script's
// LSB header name ("### BEGIN INIT INFO" to "### END INIT INFO", the key in
// any case), read as the generator reads them.
func (r Root) sysvProvides(p string) []string {
	real, err := r.Resolve(p)
	if err != nil {
		return nil
	}
	f, err := r.openRegular(real)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	header := false
	lines := bufio.NewReader(io.LimitReader(f, maxSysVScript))
	for {
		line, err := lines.ReadString('\n')
		t := strings.Trim(line, " \t\r\n")
		switch {
		case t == "### BEGIN INIT INFO":
			header = true
		case t == "### END INIT INFO":
			header = false
		case header && strings.HasPrefix(t, "#"):
			t = strings.TrimLeft(t[1:], " \t")
			if len(t) >= len("Provides:") && strings.EqualFold(t[:len("Provides:")], "Provides:") {
				out = append(out, sysvAliases(t[len("Provides:"):])...)
			}
		}
		if err != nil {
			return out
		}
	}
}

// sysvAliases are the services a Provides: value names.
func sysvAliases(v string) []string {
	words, err := unitfile.SplitWords(v)
	if err != nil {
		words = strings.Fields(v)
	}
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, "$") || slices.Contains(sysvFacilities, w) {
			continue
		}
		if u := sysvUnitName(w); strings.HasSuffix(u, ".service") {
			out = append(out, u)
		}
	}
	return out
}
