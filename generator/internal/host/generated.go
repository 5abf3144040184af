package host

import (
	"path"
)

// Some of systemd's own generators write units into the directory ours
// writes into (the normal one), at the same time as ours: their files are
// not there to see when we read the host, and of two writers of one name
// the last wins (ours renames over theirs; theirs, made exclusively, fails
// when ours came first). What they may write is held whenever the generator
// is installed: systemd-run-generator's units for systemd.run= on the
// kernel command line, and systemd-ssh-generator's sockets and services for
// sshd over AF_VSOCK and AF_UNIX (257). (systemd-import-generator's
// importN.service, for systemd.pull=, are numbered: not held. The other
// generators of 252 and 257 write names in namespaces host units hold,
// systemd-* and the getty templates, or into the early and late
// directories, which are not ours.)
var generatorUnits = map[string][]string{
	"systemd-run-generator": {"kernel-command-line.service", "kernel-command-line.target"},
	"systemd-ssh-generator": {"sshd-vsock.socket", "sshd-vsock@.service", "sshd-unix-local.socket", "sshd-unix-local@.service",
		"sshd-unix-export.socket", "sshd-unix-export@.service", "sshd-extra.socket", "sshd-extra@.service", "sshd-generated@.service"},
}

// generatorDirs are where PID 1 looks for system generators.
var generatorDirs = []string{"/run/systemd/system-generators", "/etc/systemd/system-generators",
	"/usr/local/lib/systemd/system-generators", "/usr/lib/systemd/system-generators", "/lib/systemd/system-generators"}

// readGenerated holds the units the installed generators may write.
func (r Root) readGenerated(inv *Inventory) {
	for gen, units := range generatorUnits {
		for _, d := range generatorDirs {
			p := path.Join(d, gen)
			if _, err := r.stat(p); err != nil {
				continue
			}
			for _, u := range units {
				inv.holdUnit(u, UnitFile{Path: p, Generated: true})
			}
			break
		}
	}
}
