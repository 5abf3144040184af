// Package security holds the security tests that need no container: the
// escape corpus lives in escapes/, and this package's test runs the
// generator against what real machines hold.
package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator"
	"github.com/portable-generator/portable-generator/internal/testenv"
	"golang.org/x/sys/unix"
)

// A collision with a real Debian name must be found by the real data, not a
// hand-made list: this machine's own /etc, /usr/lib and accounts, and the
// Debian 13 tree's, are mirrored into a root (unit directories and account
// files copied, the entries below /run, /var/lib, /var/cache, /var/log and
// /etc made again by name and kind), and for every alias symlink, every
// account and every directory found there, an image named after it is
// dropped in. Each must be skipped, naming the host's holder.

// unitDirs are copied whole: the unit directories PID 1 reads, SysV scripts
// and userdb records.
var unitDirs = []string{
	"etc/systemd/system", "etc/systemd/system.control", "etc/systemd/system.attached",
	"run/systemd/system", "run/systemd/system.control", "run/systemd/transient", "run/systemd/system.attached",
	"usr/local/lib/systemd/system", "usr/lib/systemd/system", "lib/systemd/system",
	"etc/init.d", "etc/userdb", "run/userdb", "usr/local/lib/userdb", "usr/lib/userdb",
	"usr/share/dbus-1/system-services",
}

// namedParents have their entries made again by name and kind.
var namedParents = []string{"run", "var/lib", "var/cache", "var/log", "etc",
	"var/lib/private", "var/cache/private", "var/log/private"}

// imageTypes are the unit types an image exports.
var imageTypes = []string{".service", ".socket", ".target", ".timer", ".path"}

// validImageName is the generator's rule for image names.
var validImageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)

func TestRealHostNames(t *testing.T) {
	testenv.NeedRoot(t)
	trees := map[string]string{"this machine": "/"}
	if tree, ok := testenv.Tree(); ok {
		trees["Debian 13"] = tree
	} else if !testing.Short() {
		t.Run("Debian 13", func(t *testing.T) { testenv.NeedTree(t) })
	}
	for label, src := range trees {
		t.Run(label, func(t *testing.T) {
			root := t.TempDir()
			os.Chmod(root, 0o755)
			mirror(t, src, root)
			aliases := realAliases(t, root)
			accounts := realAccounts(t, root)
			dirs := realDirectories(t, root)
			if len(aliases) == 0 || len(accounts) == 0 || len(dirs) == 0 {
				t.Fatalf("%s: %d aliases, %d accounts, %d directories: not a real host", src, len(aliases), len(accounts), len(dirs))
			}
			t.Logf("%s: %d alias symlinks, %d accounts, %d directories", src, len(aliases), len(accounts), len(dirs))

			// An image named after each alias, shipping the alias's unit.
			images := map[string]string{}
			for unit := range aliases {
				images[imageNameOf(unit)] = unit
			}
			judge(t, root, images, func(img, unit string) string { return "" }, func(img, unit, reason string) error {
				want := "unit " + unit + " already exists on the host in "
				for _, p := range aliases[unit] {
					if strings.Contains(reason, want+p) {
						return nil
					}
				}
				return fmt.Errorf("the reason does not name the alias %s in %v", unit, aliases[unit])
			})

			// An image named after each account: DynamicUser= without
			// User= would run its service as the account.
			images = map[string]string{}
			for _, a := range accounts {
				images[a] = a + ".service"
			}
			judge(t, root, images, func(string, string) string { return "" }, hostHolds)

			// An image named after each unit the system bus activates
			// (held by the unit, its alias, or the activation file).
			images = map[string]string{}
			for _, unit := range busUnits(t, root) {
				images[imageNameOf(unit)] = unit
			}
			if len(images) == 0 {
				t.Errorf("%s: no unit the system bus activates", src)
			}
			judge(t, root, images, func(string, string) string { return "" }, hostHolds)

			// An image named after each directory, naming it as the
			// directory its parent's setting makes.
			images = map[string]string{}
			settings := map[string]string{}
			for p, key := range dirs {
				name := filepath.Base(p)
				images[name] = name + ".service"
				settings[name] = key
			}
			judge(t, root, images, func(img, _ string) string { return settings[img] + "=" + img + "\n" }, hostHolds)
		})
	}
}

// hostHolds accepts a skip that names the image's name as something the
// host holds: the account, a directory, a unit, or the prefix.
func hostHolds(img, unit, reason string) error {
	for _, holds := range []string{"which the host holds", "belongs to the host", "already exists on the host"} {
		if strings.Contains(reason, holds) && strings.Contains(reason, img) {
			return nil
		}
	}
	return fmt.Errorf("the reason does not say the host holds %s", img)
}

// judge drops one image per entry of images (name -> unit) into the root,
// runs the generator, and checks every image is skipped with a reason
// check accepts; then removes the images.
func judge(t *testing.T, root string, images map[string]string, extra func(img, unit string) string, check func(img, unit, reason string) error) {
	t.Helper()
	portables := filepath.Join(root, "var/lib/portables")
	os.RemoveAll(portables)
	for img, unit := range images {
		dir := filepath.Join(portables, img)
		write(t, filepath.Join(dir, "usr/lib/os-release"), "ID=realhost\n")
		write(t, filepath.Join(dir, "usr/lib/systemd/system", unit), "[Service]\nExecStart=/usr/bin/"+img+"\n"+extra(img, unit))
	}
	os.Chmod(portables, 0o755)
	out, _, err := generator.Generate(generator.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range out.Reports {
		unit, ours := images[r.Name]
		if !ours {
			continue
		}
		seen[r.Name] = true
		if r.State != generator.StateSkipped {
			t.Errorf("image %s (%s): %s, want skipped: the host holds it", r.Name, unit, r.State)
			continue
		}
		if err := check(r.Name, unit, r.Reason); err != nil {
			t.Errorf("image %s: %v: %s", r.Name, err, r.Reason)
		}
	}
	for img := range images {
		if !seen[img] {
			t.Errorf("image %s: no report", img)
		}
	}
	os.RemoveAll(portables)
}

// imageNameOf is the image a unit is named after: its name before the
// type, or before the '@' of a template.
func imageNameOf(unit string) string {
	n := strings.TrimSuffix(unit, filepath.Ext(unit))
	n, _, _ = strings.Cut(n, "@")
	return n
}

// realAliases finds the alias symlinks of the root's unit directories:
// unit name -> the paths (in the root) holding it.
func realAliases(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range unitDirs[:10] {
		ents, _ := os.ReadDir(filepath.Join(root, d))
		for _, e := range ents {
			name := e.Name()
			if e.Type()&os.ModeSymlink == 0 || !slices.Contains(imageTypes, filepath.Ext(name)) || !validImageName.MatchString(imageNameOf(name)) {
				continue
			}
			target, err := os.Readlink(filepath.Join(root, d, name))
			if err != nil || target == "/dev/null" || filepath.Base(target) == name {
				continue
			}
			out[name] = append(out[name], "/"+filepath.Join(d, name))
		}
	}
	return out
}

// busUnits are the units the root's D-Bus activation files name
// (SystemdService=).
func busUnits(t *testing.T, root string) []string {
	t.Helper()
	dir := filepath.Join(root, "usr/share/dbus-1/system-services")
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if u, ok := strings.CutPrefix(strings.TrimSpace(line), "SystemdService="); ok && validImageName.MatchString(imageNameOf(u)) {
				out = append(out, u)
			}
		}
	}
	return out
}

// realAccounts are the user and group names of the root's account files
// that can name an image.
func realAccounts(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range []string{"etc/passwd", "etc/group"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok && validImageName.MatchString(name) {
				seen[name] = true
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// realDirectories are the directories below /run, /var/lib, /var/cache and
// /var/log that can name an image, each with the setting that makes PID 1
// create it (a directory name found under two parents is judged once).
func realDirectories(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	named := map[string]bool{}
	for _, p := range []struct{ dir, key string }{{"run", "RuntimeDirectory"}, {"var/lib", "StateDirectory"},
		{"var/cache", "CacheDirectory"}, {"var/log", "LogsDirectory"}} {
		ents, _ := os.ReadDir(filepath.Join(root, p.dir))
		for _, e := range ents {
			if !e.IsDir() || !validImageName.MatchString(e.Name()) || named[e.Name()] || e.Name() == "portables" || e.Name() == "private" {
				continue
			}
			named[e.Name()] = true
			out["/"+p.dir+"/"+e.Name()] = p.key
		}
	}
	return out
}

// mirror copies what the generator's host inventory reads from src into
// dst: unit directories and account files whole, and the entries below
// namedParents by name and kind (directories, links, sockets; other files
// empty).
func mirror(t *testing.T, src, dst string) {
	t.Helper()
	if fi, err := os.Lstat(filepath.Join(src, "lib")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(filepath.Join(src, "lib"))
		if err := os.Symlink(target, filepath.Join(dst, "lib")); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range unitDirs {
		from := filepath.Join(src, d)
		if fi, err := os.Lstat(from); err != nil || !fi.IsDir() {
			continue
		}
		to := filepath.Join(dst, d)
		if _, err := os.Lstat(to); err == nil {
			continue // reached through a link copied before (lib -> usr/lib)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
			t.Fatalf("cp -a %s: %v: %s", from, err, out)
		}
	}
	for _, f := range []string{"etc/passwd", "etc/group"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, f), string(b))
	}
	for _, parent := range namedParents {
		ents, _ := os.ReadDir(filepath.Join(src, parent))
		for _, e := range ents {
			to := filepath.Join(dst, parent, e.Name())
			if _, err := os.Lstat(to); err == nil {
				continue
			}
			os.MkdirAll(filepath.Dir(to), 0o755)
			switch t := e.Type(); {
			case t.IsDir():
				os.Mkdir(to, 0o755)
			case t&os.ModeSymlink != 0:
				target, _ := os.Readlink(filepath.Join(src, parent, e.Name()))
				os.Symlink(target, to)
			case t&os.ModeSocket != 0:
				bindSocket(to)
			default:
				os.WriteFile(to, nil, 0o644)
			}
		}
	}
}

func bindSocket(p string) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	unix.Bind(fd, &unix.SockaddrUnix{Name: p})
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
