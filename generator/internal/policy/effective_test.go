package policy

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/profiles"
)

// checkLifts proves that each way a violation names to lift it lifts it:
// the drop-in, merged after the unit as PID 1 would, and the claim.
func checkLifts(t *testing.T, unit, body string, img Image, pn string, p *unitfile.File, v *Violation) {
	t.Helper()
	if v.Allow != "AllowDirectives="+v.Directive {
		t.Errorf("lift by setting: %q", v.Allow)
	}
	refusedAgain := func(err error) bool {
		var r Refusals
		errors.As(err, &r)
		for _, w := range r {
			if w.Directive == v.Directive && w.Line == v.Line {
				return true
			}
		}
		return false
	}
	if v.DropIn != "" {
		merged := unitfile.Merge([]string{unit}, parse(t, body), []string{"/etc/systemd/system"},
			[]unitfile.DropIn{{Path: "/etc/systemd/system/" + unit + ".d/override.conf", Data: []byte(v.DropIn)}})
		if _, err := Check(unit, merged, img, pn, p); refusedAgain(err) {
			t.Errorf("the drop-in %q does not lift it: %v", v.DropIn, err)
		}
	}
	if v.Claim != "" {
		claimed := img
		claimed.Claims = append(append([]string(nil), img.Claims...), strings.Fields(strings.TrimPrefix(v.Claim, "Claim="))...)
		if _, err := Check(unit, parse(t, body), claimed, pn, p); refusedAgain(err) {
			t.Errorf("%s does not lift it: %v", v.Claim, err)
		}
	}
}

func rendered(t *testing.T, name string, version int) *unitfile.File {
	t.Helper()
	b, ok := profiles.Builtin(name, version)
	if !ok {
		t.Fatalf("no profile %s", name)
	}
	return parse(t, string(b))
}

// No false positives: what the profile's drop-in overrides, and what cannot
// reach outside the image's namespace whatever its specifiers expand to,
// passes under every confining profile and on every rendering.
func TestNoFalsePositives(t *testing.T) {
	pg := Image{Units: []string{"postgresql.service", "postgresql@.service"}, Prefixes: []string{"postgresql"}}
	for _, tc := range []struct {
		name, unit, body string
		img              Image
		profiles         []string // nil: default, nonetwork, strict
	}{
		// The profile's single values come after the unit's.
		{"weaker protections", "app.service", "[Service]\nProtectSystem=full\nProtectSystem=true\nPrivateUsers=no\nDynamicUser=false\n" +
			"PrivateDevices=0\nNoNewPrivileges=no\nKeyringMode=shared\nProtectProc=default\nProtectHome=read-only\nPrivateTmp=no\n", appImage, nil},
		{"network back on", "app.service", "[Service]\nPrivateNetwork=no\n", appImage, []string{"nonetwork", "strict"}},
		// SIGTERM still reaches every process; what survives it keeps
		// only what the sandbox gave it.
		{"no SIGKILL", "app.service", "[Service]\nSendSIGKILL=no\n", appImage, nil},
		// The log sockets every profile binds.
		{"log sockets", "app.service", "[Service]\nBindReadOnlyPaths=/dev/log:/run/systemd/journal/dev-log -/run/systemd/journal/socket\n" +
			"BindReadOnlyPaths=/run/systemd/journal/stdout:/run/app/stdout:norbind\n", appImage, nil},
		{"what default binds", "app.service", "[Service]\nBindReadOnlyPaths=/etc/machine-id -/run/dbus/system_bus_socket:/run/dbus/system_bus_socket\n", appImage, []string{"default"}},
		// An instance cannot leave the directory an own name starts.
		{"instance PID file", "postgresql@.service", "[Service]\nPIDFile=/run/postgresql/%i.pid\nRuntimeDirectory=postgresql/%i-main postgresql-%j\n" +
			"StateDirectory=postgresql/%i.d\nUser=postgresql-%i\nSyslogIdentifier=postgresql@%i\n", pg, nil},
		{"instance specifiers in a plain unit", "postgresql.service", "[Service]\nPIDFile=/run/postgresql/%i.pid\n", pg, nil},
		{"instance socket", "app.socket", "[Socket]\nListenStream=/run/app/%i.sock\n", appImage, nil},
		// Conditions on the image's own host paths.
		{"own conditions", "app.service", "[Unit]\nConditionPathExists=|!/var/lib/app/initialized\nConditionDirectoryNotEmpty=/run/app\n" +
			"AssertPathExistsGlob=/etc/app/conf.d/*.conf\nConditionPathIsDirectory=/var/cache/%p\n", appImage, nil},
		{"a bus name PID 1 only waits for", "app.service", "[Service]\nBusName=org.example.App\n", appImage, nil},
		{"a bus name of a notify service", "app.service", "[Service]\nType=notify\nBusName=org.example.App\n", appImage, nil},
		{"own mounts", "app.service", "[Unit]\nRequiresMountsFor=/ /var/lib/app/data\nWantsMountsFor=/var/log/app\n", appImage, nil},
		// Claimed names are the image's.
		{"claimed names", "redis-server.service", "[Service]\nUser=redis\nGroup=redis\nRuntimeDirectory=redis\nPIDFile=/run/redis/redis-server.pid\n" +
			"StateDirectory=redis\nLogsDirectory=redis\n",
			Image{Units: []string{"redis-server.service"}, Prefixes: []string{"redis-server"}, Claims: []string{"redis"}}, nil},
	} {
		ps := tc.profiles
		if ps == nil {
			ps = []string{"default", "nonetwork", "strict"}
		}
		for _, pn := range ps {
			for _, version := range []int{252, 257} {
				if _, err := Check(tc.unit, parse(t, tc.body), tc.img, pn, rendered(t, pn, version)); err != nil {
					t.Errorf("%s under %s for %d: %v", tc.name, pn, version, err)
				}
			}
		}
	}
}

// Every refused line of a unit is reported, in order, each with its line.
func TestEveryRefusalAtOnce(t *testing.T) {
	body := "[Unit]\nWants=sshd.service\n[Service]\nUser=messagebus\nEnvironmentFile=/etc/secret\nExecStartPre=+/bin/true\nBindPaths=/etc\n"
	_, err := Check("app.service", parse(t, body), appImage, "default", profile(t, "default"))
	var r Refusals
	if !errors.As(err, &r) {
		t.Fatalf("not refused: %v", err)
	}
	var got []string
	for _, v := range r {
		got = append(got, v.Directive+":"+v.Value+"@"+string(rune('0'+v.Line)))
	}
	want := []string{"Wants:sshd.service@2", "User:messagebus@4", "EnvironmentFile:/etc/secret@5", "ExecStartPre:+/bin/true@6", "BindPaths:/etc@7"}
	if !slices.Equal(got, want) {
		t.Errorf("refusals %q, want %q", got, want)
	}
	if !strings.HasPrefix(err.Error(), "5 lines refused: unit app.service: Wants=sshd.service ") {
		t.Errorf("message: %v", err)
	}
	// Dependencies cannot be removed by a drop-in: only the setting lifts.
	if r[0].DropIn != "" || r[1].DropIn != "[Service]\nUser=\n" || r[1].Claim != "Claim=messagebus" || r[2].Claim != "" {
		t.Errorf("lifts: %+v %+v %+v", r[0], r[1], r[2])
	}
}

// The admin's drop-ins are trusted: a line they reset is not judged, a line
// they write is never refused; an image line they only append to still is.
func TestAdminDropIns(t *testing.T) {
	image := "[Service]\nExecStart=+/usr/bin/app\nEnvironmentFile=/etc/default/app\nUser=app\n"
	merge := func(dropin string) *unitfile.File {
		return unitfile.Merge([]string{"app.service"}, parse(t, image), []string{"/etc/systemd/system", "/run/systemd/system"},
			[]unitfile.DropIn{{Path: "/run/systemd/system/app.service.d/50-local.conf", Data: []byte(dropin)}})
	}
	p := profile(t, "default")
	if _, err := Check("app.service", merge("[Service]\nExecStart=\nExecStart=/usr/bin/app\nEnvironmentFile=\nEnvironmentFile=-/etc/default/app\nUser=root\n"), appImage, "default", p); err != nil {
		t.Errorf("admin's resets and own lines refused: %v", err)
	}
	_, err := Check("app.service", merge("[Service]\nEnvironmentFile=/etc/other\n"), appImage, "default", p)
	var r Refusals
	if !errors.As(err, &r) || len(r) != 2 || r[0].Directive != "ExecStart" || r[1].Value != "/etc/default/app" {
		t.Errorf("appending does not lift the image's lines: %v", err)
	}
}

// The rule reference's list of refusals (portable-generator(8), WHAT AN
// IMAGE MAY NOT DO) names exactly the directives the rules can refuse.
func TestManPageListsEveryRefusal(t *testing.T) {
	page, err := os.ReadFile("../../../dist/man/portable-generator.8.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(page), " Refused:\n\n- ")
	if start < 0 {
		t.Fatal("portable-generator(8) has no list of refusals (\"Refused:\" and a list)")
	}
	list := string(page[start:])
	list = list[:strings.Index(list, "\n\n*")]
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([A-Z][A-Za-z]*\\*?)=[^`]*`").FindAllStringSubmatch(list, -1) {
		named[m[1]] = true
	}
	for _, d := range Directives() {
		if !named[d] {
			t.Errorf("portable-generator(8)'s list of refusals does not name %s=", d)
		}
		delete(named, d)
	}
	for d := range named {
		t.Errorf("portable-generator(8)'s list of refusals names %s=, which no rule refuses", d)
	}
}

// A name outside the namespace followed by an instance is claimed by the
// name before the separator: Claim=redis lifts RuntimeDirectory=redis-%i.
func TestClaimHintForInstances(t *testing.T) {
	img := Image{Units: []string{"redis-server@.service"}, Prefixes: []string{"redis-server"}}
	body := "[Service]\nRuntimeDirectory=redis-%i\nPIDFile=/run/redis-%i/redis-server.pid\nUser=%i\n"
	p := profile(t, "default")
	_, err := Check("redis-server@.service", parse(t, body), img, "default", p)
	var r Refusals
	if !errors.As(err, &r) || len(r) != 3 {
		t.Fatalf("refusals: %v", err)
	}
	for i, want := range []string{"Claim=redis", "Claim=redis", ""} {
		if r[i].Claim != want {
			t.Errorf("%s=%s: claim hint %q, want %q", r[i].Directive, r[i].Value, r[i].Claim, want)
		}
		checkLifts(t, "redis-server@.service", body, img, "default", p, r[i])
	}
}
