// Command profiles writes the built-in profiles, rendered for one systemd
// version, as reference copies for the package:
// DIR/NAME/service.conf for every built-in profile.
//
//	go run ./dist/profiles -systemd-version 252 DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/portable-generator/portable-generator/profiles"
)

func main() {
	version := flag.Int("systemd-version", 0, "render for systemd version `N` (0: the newest the profiles know)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: profiles [-systemd-version N] DIR")
		os.Exit(2)
	}
	if err := write(flag.Arg(0), *version); err != nil {
		fmt.Fprintln(os.Stderr, "profiles:", err)
		os.Exit(1)
	}
}

func write(dir string, version int) error {
	shown := version
	if shown <= 0 {
		shown = profiles.Newest
	}
	for _, name := range profiles.Names {
		content, _ := profiles.Builtin(name, version)
		header := fmt.Sprintf("# A copy of portable-generator's built-in profile %q, rendered for systemd %d.\n"+
			"# The generator uses its built-in copy, rendered for the systemd that runs it;\n"+
			"# to change the profile, copy this file to\n"+
			"# /etc/systemd/portable/profile/%s/service.conf and edit it there.\n", name, shown, name)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name, "service.conf"), append([]byte(header), content...), 0o644); err != nil {
			return err
		}
	}
	return nil
}
