package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/systemdtest"
)

// The effective unit end to end: the admin's drop-ins beside our output,
// loaded by the real PID 1 of 252 and 257. An image line the admin resets
// does not skip the image, and the lists the generator narrows keep every
// line the admin wrote, whether PID 1 applies it before the profile's
// drop-in or after.
func TestAdminDropInsWithOurOutput(t *testing.T) {
	for _, j := range systemdtest.All(t) {
		t.Run(fmt.Sprint(j.Version), func(t *testing.T) {
			base := t.TempDir()
			// Read by nobody: TempDir and its parent are private.
			os.Chmod(filepath.Dir(base), 0o755)
			os.Chmod(base, 0o755)
			root := filepath.Join(base, "root")
			write := func(p, content string) {
				p = filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"caps", "added"} {
				write("var/lib/portables/"+name+"/usr/lib/os-release", "ID=test\n")
				write("var/lib/portables/"+name+"/etc/machine-id", "")
			}
			// caps asks for more than the profile gives, and reads a host
			// file, which the admin's drop-in takes out.
			write("var/lib/portables/caps/usr/lib/systemd/system/caps.service", "[Service]\nExecStart=/usr/bin/caps\n"+
				"EnvironmentFile=/etc/default/caps\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_ADMIN\n")
			write("etc/systemd/system/caps.service.d/05-caps.conf", "[Service]\nCapabilityBoundingSet=CAP_NET_RAW\n")
			write("etc/systemd/system/caps.service.d/override.conf", "[Service]\nEnvironmentFile=\nCapabilityBoundingSet=CAP_IPC_LOCK\n")
			// added asks for nothing; the admin adds a capability.
			write("var/lib/portables/added/usr/lib/systemd/system/added.service", "[Service]\nExecStart=/usr/bin/added\n")
			write("etc/systemd/system/added.service.d/override.conf", "[Service]\nCapabilityBoundingSet=CAP_NET_RAW\n")

			res, _, err := Generate(Config{Root: root, SystemdVersion: j.Version})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Reports {
				if r.State != StateAttached {
					t.Fatalf("%s: %s: %s", r.Name, r.State, r.Reason)
				}
			}
			out := filepath.Join(base, "out")
			os.MkdirAll(out, 0o755)
			if err := Write(out, res.Files); err != nil {
				t.Fatal(err)
			}
			filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.IsDir() {
					os.Chmod(p, 0o755)
				}
				return nil
			})
			// The admin's directory before ours, as in systemd's search path.
			dump := j.Load(t, base, []string{"root/etc/systemd/system", "out"}, "caps.service")
			added := j.Load(t, base, []string{"root/etc/systemd/system", "out"}, "added.service")
			caps := func(d systemdtest.Dump, unit string) []string {
				var c []string
				for _, v := range d[unit]["CapabilityBoundingSet"] {
					c = append(c, strings.Fields(v)...)
				}
				slices.Sort(c)
				return c
			}
			// The image's CAP_NET_BIND_SERVICE within the profile's, not
			// its CAP_SYS_ADMIN; both of the admin's.
			if got, want := caps(dump, "caps.service"), []string{"cap_ipc_lock", "cap_net_bind_service", "cap_net_raw"}; !slices.Equal(got, want) {
				t.Errorf("caps.service: CapabilityBoundingSet %q, want %q", got, want)
			}
			if got := dump["caps.service"]["EnvironmentFile"]; len(got) != 0 {
				t.Errorf("caps.service: EnvironmentFile %q, the admin reset it", got)
			}
			// Nothing to narrow: the profile's set and the admin's addition.
			if got := caps(added, "added.service"); !slices.Contains(got, "cap_net_raw") || !slices.Contains(got, "cap_chown") {
				t.Errorf("added.service: CapabilityBoundingSet %q, want the profile's and cap_net_raw", got)
			}
		})
	}
}
