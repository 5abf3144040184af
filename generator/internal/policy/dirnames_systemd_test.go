package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/portable-generator/portable-generator/internal/systemdtest"
)

// dirNameValues are RuntimeDirectory= values on whose reading the policy
// and the claims could differ from PID 1: escapes, quotes, separators.
var dirNameValues = []string{
	`plain`,
	`plain-\x64bus`,                // "plain-dbus"
	`\x70lain-hex`,                 // an escape in the first byte
	`plain-\101`,                   // octal
	`plain-\u00e9`,                 // a code point
	`plain-\s1`,                    // a space
	`plain-a\:b`,                   // a ':' inside a name
	`"plain-q r"`,                  // quotes group
	`plain-\x25n`,                  // an escaped % starts a specifier: %n, the unit name
	`plain-e plain-\q plain-after`, // an invalid escape ends the line
}

// TestDirectoryNamesAsSystemdReadsThem: the names the policy judges and
// claims for a directory setting are the ones PID 1 loads, by the real
// systemd in test mode (RuntimeDirectory= in its dump).
func TestDirectoryNamesAsSystemdReadsThem(t *testing.T) {
	for _, j := range systemdtest.All(t) {
		t.Run(fmt.Sprint("systemd", j.Version), func(t *testing.T) {
			// World-readable all the way: systemd runs as nobody.
			base, err := os.MkdirTemp("", "pg-dirnames-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(base) })
			os.Chmod(base, 0o755)
			units := filepath.Join(base, "units")
			os.Mkdir(units, 0o755)
			target := "[Unit]\nDescription=directory names\n"
			for i, v := range dirNameValues {
				u := fmt.Sprintf("dirnames-%d.service", i)
				target += "Wants=" + u + "\n"
				body := "[Service]\nExecStart=/bin/true\nRuntimeDirectory=" + v + "\n"
				if err := os.WriteFile(filepath.Join(units, u), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(units, "dirnames.target"), []byte(target), 0o644); err != nil {
				t.Fatal(err)
			}
			dump := j.Load(t, base, []string{"units"}, "dirnames.target")
			for i, v := range dirNameValues {
				var ours []string
				for _, parts := range directoryNames(v) {
					for _, n := range parts {
						// PID 1 expands specifiers after unescaping.
						ours = append(ours, expandSpecifiers(n, fmt.Sprintf("dirnames-%d.service", i)))
					}
				}
				theirs := dump[fmt.Sprintf("dirnames-%d.service", i)]["RuntimeDirectory"]
				sort.Strings(ours)
				sort.Strings(theirs)
				if !slices.Equal(ours, theirs) {
					t.Errorf("RuntimeDirectory=%s: we read %q, systemd %d %q", v, ours, j.Version, theirs)
				}
			}
		})
	}
}

// expandSpecifiers expands the unit's own specifiers, the only ones the
// values above use.
func expandSpecifiers(s, unit string) string {
	c := &unitCheck{name: unit, typ: ".service"}
	if e, ok := c.expandOwn(s); ok {
		return e
	}
	return s
}
