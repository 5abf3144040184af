//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/integration/security/escapes"
)

// The escape corpus (integration/security/escapes) on a running PID 1, for
// what `systemd --test` does not print (generator/escape_test.go judges the
// rest offline): `systemctl show` of every attempt's properties under the
// default and strict profiles, refused or equal to the baseline's, and
// different once the admin allows the directive. Then a few attempts are
// started, to show on the container's own files what each would do to the
// host, and that refused, it does nothing.

// escapeImage writes a case's directory image to dst: its units, the
// counter binary as every ExecStart= of the corpus (/usr/bin/NAME-daemon),
// and what a read-only image needs at start.
func escapeImage(t *testing.T, c escapes.Case, dst string) {
	t.Helper()
	bin, err := os.ReadFile(bins["counter"])
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"usr/lib/os-release": "ID=corpus\nVERSION_ID=1\n",
		"etc/resolv.conf":    "",
		"etc/machine-id":     "",
	}
	for name, body := range c.Units {
		files["usr/lib/systemd/system/"+c.Expand(name)] = c.Expand(body)
	}
	for p, body := range c.Files {
		files[c.Expand(p)] = c.Expand(body)
	}
	for _, d := range []string{"usr/bin", "proc", "sys", "dev", "run", "tmp", "var/tmp", "var/lib/" + c.Name} {
		if err := os.MkdirAll(filepath.Join(dst, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, dst, files)
	if err := os.WriteFile(filepath.Join(dst, "usr/bin", c.Name+"-daemon"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
}

// escapeSettings writes or removes every case's NAME.portable and the
// global profile, then reloads.
func escapeSettings(t *testing.T, cases []escapes.Case, profile string, allow bool) {
	t.Helper()
	conf := filepath.Join(ct.merged, "etc/systemd")
	os.MkdirAll(filepath.Join(conf, "portable"), 0o755)
	if err := os.WriteFile(filepath.Join(conf, "portable-generator.conf"), []byte("[Portable]\nProfile="+profile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		f := filepath.Join(conf, "portable", c.Name+".portable")
		os.Remove(f)
		if allow && c.Directive != "" {
			if err := os.WriteFile(f, []byte("[Portable]\nAllowDirectives="+c.Directive+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ct.must(t, "systemctl", "daemon-reload")
}

// escapeCleanup removes the images, settings and whatever the runs left.
func escapeCleanup(t *testing.T, names []string, units []string, paths ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if len(units) > 0 {
			ct.exec(ctx, append([]string{"systemctl", "stop"}, units...)...)
		}
		for _, n := range names {
			os.RemoveAll(filepath.Join(ct.portables, n))
			os.Remove(filepath.Join(ct.merged, "etc/systemd/portable", n+".portable"))
			paths = append(paths, "/var/lib/private/"+n, "/var/lib/"+n)
		}
		os.Remove(filepath.Join(ct.merged, "etc/systemd/portable-generator.conf"))
		ct.exec(ctx, append([]string{"rm", "-rf"}, paths...)...)
		ct.exec(ctx, "systemctl", "daemon-reload")
		if len(units) > 0 {
			ct.exec(ctx, append([]string{"systemctl", "reset-failed"}, units...)...)
		}
	})
}

// showProps returns the unit's values of props, naming the case's image as
// the baseline's so the two compare.
func showProps(t *testing.T, unit, caseName string, props []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range props {
		var v string
		if slices.Contains(busProps, p) {
			v = busProperty(t, unit, p)
		} else {
			v = ct.show(t, unit, p)
		}
		out[p] = strings.ReplaceAll(v, caseName, escapes.Baseline)
	}
	return out
}

// busProps are properties systemctl cannot print (credentials are a(ss)
// and a(say); 257's systemctl shows NFTSet=, an a(iiss), as
// "[unprintable]" whatever it holds): they are read from the bus.
var busProps = []string{"LoadCredential", "LoadCredentialEncrypted", "SetCredential", "SetCredentialEncrypted", "NFTSet"}

// busProperty reads a property of a loaded unit from PID 1 on the bus.
func busProperty(t *testing.T, unit, prop string) string {
	t.Helper()
	obj := strings.Fields(ct.must(t, "busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
		"org.freedesktop.systemd1.Manager", "LoadUnit", "s", unit))
	if len(obj) != 2 {
		t.Fatalf("LoadUnit %s: %q", unit, obj)
	}
	typ := unit[strings.LastIndexByte(unit, '.')+1:]
	iface := "org.freedesktop.systemd1." + strings.ToUpper(typ[:1]) + typ[1:]
	return ct.must(t, "busctl", "get-property", "org.freedesktop.systemd1", strings.Trim(obj[1], `"`), iface, prop)
}

// listProps are sets: narrower than the baseline's is no widening.
var listProps = []string{"RestrictAddressFamilies", "CapabilityBoundingSet"}

func widerThan(prop, got, base string) bool {
	if !slices.Contains(listProps, prop) {
		return got != base
	}
	b := strings.Fields(base)
	for _, w := range strings.Fields(got) {
		if !slices.Contains(b, w) {
			return true
		}
	}
	return false
}

func TestEscapeCorpusInContainer(t *testing.T) {
	var cases []escapes.Case
	names := []string{escapes.Baseline}
	var units []string
	for _, c := range escapes.Cases {
		if len(c.Show) > 0 && c.Since <= ct.version {
			cases = append(cases, c)
			names = append(names, c.Name)
			units = append(units, c.UnitNames()...)
		}
	}
	escapeCleanup(t, names, units)
	base := escapes.BaselineCase()
	for _, c := range append([]escapes.Case{base}, cases...) {
		escapeImage(t, c, filepath.Join(ct.portables, c.Name))
	}
	baseType := func(u string) string { return escapes.Baseline + u[strings.LastIndexByte(u, '.'):] }
	var table []string
	for _, p := range []string{"default", "strict"} {
		escapeSettings(t, cases, p, false)
		for _, c := range cases {
			if !slices.Contains(c.ProfilesOf(), p) {
				continue
			}
			outcome := "no-effect"
			for _, u := range c.UnitNames() {
				state := ct.show(t, u, "LoadState")
				switch {
				case state == "not-found":
					outcome = "refused"
				case slices.Contains(c.Refused, p):
					t.Errorf("%s under %s: %s is %s, want not-found", c.Name, p, u, state)
				default:
					got, want := showProps(t, u, c.Name, c.Show), showProps(t, baseType(u), escapes.Baseline, c.Show)
					for _, prop := range c.Show {
						if widerThan(prop, got[prop], want[prop]) {
							t.Errorf("%s under %s: the attempt has an effect: %s %s=%q, baseline %q", c.Name, p, u, prop, got[prop], want[prop])
						}
					}
				}
			}
			table = append(table, fmt.Sprintf("%-26s %-9s %s", c.Name, p, outcome))
		}
		// Allowed, the attempt reaches PID 1: the case is real.
		escapeSettings(t, cases, p, true)
		for _, c := range cases {
			if !slices.Contains(c.WideningProfiles(), p) {
				continue
			}
			differs := false
			for _, u := range c.UnitNames() {
				if state := ct.show(t, u, "LoadState"); state != "loaded" {
					t.Errorf("%s under %s with AllowDirectives=%s: %s is %s", c.Name, p, c.Directive, u, state)
					continue
				}
				got, want := showProps(t, u, c.Name, c.Show), showProps(t, baseType(u), escapes.Baseline, c.Show)
				for _, prop := range c.Show {
					if widerThan(prop, got[prop], want[prop]) {
						differs = true
					}
				}
			}
			if !differs {
				t.Errorf("%s under %s with AllowDirectives=%s: systemctl show %v is the baseline's: the case proves nothing", c.Name, p, c.Directive, c.Show)
			}
		}
	}
	sort.Strings(table)
	t.Logf("systemd %d, systemctl show:\n%s", ct.version, strings.Join(table, "\n"))
}

// hostEffect is an attempt started on the running system: what it does to
// the container's own files when allowed, and that refused it does nothing.
type hostEffect struct {
	c escapes.Case
	// prepare sets the host up (a victim file); start is the unit started.
	prepare, start string
	// escaped is a shell test that holds once the attempt worked.
	escaped string
	paths   []string // to remove afterwards
}

func TestEscapeAttemptsOnTheHost(t *testing.T) {
	byName := map[string]escapes.Case{}
	for _, c := range escapes.Cases {
		byName[c.Name] = c
	}
	for _, e := range []hostEffect{
		// The '+' command runs as root, not as the service's dynamic user
		// (and then the service cannot read its own state).
		{c: byName["exec-plus"], start: "exec-plus.service",
			escaped: "grep -q ' uid=0$' /var/lib/private/exec-plus/started"},
		{c: byName["stdout-append"], start: "stdout-append.service",
			escaped: `test "$(stat -c %U /etc/escape-append)" = root`, paths: []string{"/etc/escape-append"}},
		{c: byName["socket-exec"], start: "socket-exec.socket",
			escaped: "test -f /etc/escape-socket-exec", paths: []string{"/etc/escape-socket-exec"}},
		// PID 1 binds a socket in the host's /etc. (Where the host already
		// has a file, the host check refuses the image whatever the policy
		// allows: TestHostHoldingsOnTheHost shows PID 1 replacing it.)
		{c: byName["socket-host-path"], start: "socket-host-path.socket",
			escaped: "test -S /etc/escape.sock", paths: []string{"/etc/escape.sock"}},
		// PID 1 opens the host's console and hands it to the sandboxed
		// service (started once its socket listens).
		{c: byName["socket-special"], start: "socket-special.socket",
			escaped: `systemctl start socket-special.service && pid=$(systemctl show -P MainPID socket-special.service) && [ "$pid" != 0 ] && ls -l /proc/$pid/fd | grep -q ' -> /dev/console$'`},
		// Host accounts and directories the image names are the host
		// check's, which AllowDirectives= does not lift:
		// TestHostHoldingsOnTheHost.
	} {
		t.Run(e.c.Name, func(t *testing.T) {
			escapeCleanup(t, []string{e.c.Name}, []string{e.start, strings.TrimSuffix(e.start, ".socket") + ".service"}, e.paths...)
			escapeImage(t, e.c, filepath.Join(ct.portables, e.c.Name))
			if e.prepare != "" {
				ct.must(t, "sh", "-c", e.prepare)
			}
			// Refused: nothing to start, nothing happens.
			escapeSettings(t, []escapes.Case{e.c}, "default", false)
			if out, err := ct.exec(context.Background(), "systemctl", "start", e.start); err == nil {
				t.Fatalf("refused, yet %s starts: %s", e.start, out)
			}
			time.Sleep(500 * time.Millisecond)
			if out, err := ct.exec(context.Background(), "sh", "-c", e.escaped); err == nil {
				t.Fatalf("refused, yet the host shows the escape (%s): %s", e.escaped, out)
			}
			// Allowed by the admin: it happens, so the refusal is what
			// stopped it.
			escapeSettings(t, []escapes.Case{e.c}, "default", true)
			ct.exec(context.Background(), "systemctl", "start", e.start)
			poll(t, "the allowed attempt reaching the host", 10*time.Second, func() error {
				if out, err := ct.exec(context.Background(), "sh", "-c", e.escaped); err != nil {
					return fmt.Errorf("%s: %v %s\n%s\n%s", e.escaped, err, out, ct.sh("systemctl status --no-pager -n 5 "+e.start),
						ct.sh("journalctl --no-pager -n 20 -u "+strings.TrimSuffix(e.start, ".socket")+".service; find /var/lib/portables/"+e.c.Name+"/var /var/lib/private -ls"))
				}
				return nil
			})
		})
	}
}
