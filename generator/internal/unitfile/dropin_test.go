package unitfile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The directories systemd's unit_file_find_dirs visits, traced by hand
// through its dash-prefix walk (a trailing dash is chopped once, a leading
// one ends it) and confirmed by the merge tests against systemd --test.
func TestDropInDirs(t *testing.T) {
	for name, want := range map[string][]string{
		"foo.service":          {"foo.service.d"},
		"foo-bar.service":      {"foo-bar.service.d", "foo-.service.d"},
		"a-b-c.socket":         {"a-b-c.socket.d", "a-b-.socket.d", "a-.socket.d"},
		"foo-.service":         {"foo-.service.d"},
		"a--.service":          {"a--.service.d", "a-.service.d"},
		"-foo.service":         {"-foo.service.d"},
		"foo@.service":         {"foo@.service.d"},
		"foo-bar@.service":     {"foo-bar@.service.d", "foo-.service.d"},
		"foo-bar@x.service":    {"foo-bar@x.service.d", "foo-bar@.service.d", "foo-.service.d", "foo-@x.service.d", "foo-@.service.d"},
		"redis-server.service": {"redis-server.service.d", "redis-.service.d"},
	} {
		if diff := cmp.Diff(want, DropInDirs(name)); diff != "" {
			t.Errorf("%s (-want +got)\n%s", name, diff)
		}
	}
	if got := TypeDropInDir("foo-bar@x.service"); got != "service.d" {
		t.Errorf("TypeDropInDir = %q", got)
	}
}

// paths is a search path for the merge tests: /etc and /run as the admin's.
var paths = []string{"/etc/systemd/system", "/run/systemd/system", "/run/systemd/generator", "/usr/lib/systemd/system"}

func mustParse(t *testing.T, s string) *File {
	t.Helper()
	f, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// kept renders the merged assignments as "Key=Value@origin" lines.
func kept(f *File) string {
	var b strings.Builder
	for _, a := range f.Assignments {
		o := a.Origin
		if o == "" {
			o = "unit"
		}
		b.WriteString(a.Key + "=" + a.Value + " @" + o + "\n")
	}
	return b.String()
}

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		unit    string // foo-bar.service
		dropins []DropIn
		want    string
	}{
		{
			name: "a reset list drops the unit's lines, an append keeps them",
			unit: "[Service]\nEnvironmentFile=/etc/a\nExecStart=/bin/a\nReadWritePaths=/x\n",
			dropins: []DropIn{{"/etc/systemd/system/foo-bar.service.d/override.conf",
				[]byte("[Service]\nEnvironmentFile=\nExecStart=\nExecStart=/bin/b\nReadWritePaths=/y\n")}},
			want: "ReadWritePaths=/x @unit\n" +
				"EnvironmentFile= @/etc/systemd/system/foo-bar.service.d/override.conf\n" +
				"ExecStart= @/etc/systemd/system/foo-bar.service.d/override.conf\n" +
				"ExecStart=/bin/b @/etc/systemd/system/foo-bar.service.d/override.conf\n" +
				"ReadWritePaths=/y @/etc/systemd/system/foo-bar.service.d/override.conf\n",
		},
		{
			name: "single values: the last wins, an empty one resets; booleans ignore what does not parse",
			unit: "[Service]\nUser=foo\nPIDFile=/run/x.pid\nPermissionsStartOnly=yes\nStandardOutput=file:/x\n",
			dropins: []DropIn{{"/run/systemd/system/foo-bar.service.d/10.conf",
				[]byte("[Service]\nUser=bar\nPIDFile=\nPermissionsStartOnly=\nPermissionsStartOnly=maybe\nStandardOutput=\n")}},
			want: "PermissionsStartOnly=yes @unit\nStandardOutput=file:/x @unit\n" +
				"User=bar @/run/systemd/system/foo-bar.service.d/10.conf\n" +
				"PIDFile= @/run/systemd/system/foo-bar.service.d/10.conf\n",
		},
		{
			name: "drop-ins apply by file name across directories; /etc hides /run's of the same name",
			unit: "[Service]\nUser=u\n",
			dropins: []DropIn{
				{"/run/systemd/system/foo-bar.service.d/50-x.conf", []byte("[Service]\nUser=run50\n")},
				{"/etc/systemd/system/foo-bar.service.d/50-x.conf", []byte("[Service]\nUser=etc50\n")},
				{"/run/systemd/system/foo-bar.service.d/60-y.conf", []byte("[Service]\nGroup=run60\n")},
				{"/etc/systemd/system/foo-bar.service.d/40-z.conf", []byte("[Service]\nGroup=etc40\n")},
			},
			want: "User=etc50 @/etc/systemd/system/foo-bar.service.d/50-x.conf\n" +
				"Group=run60 @/run/systemd/system/foo-bar.service.d/60-y.conf\n",
		},
		{
			name: "the name's directories hide the type's and prefixes' of the same file name, in any unit directory",
			unit: "[Service]\n",
			dropins: []DropIn{
				{"/etc/systemd/system/service.d/a.conf", []byte("[Service]\nUser=type\n")},
				{"/usr/lib/systemd/system/foo-bar.service.d/a.conf", []byte("[Service]\nUser=vendor-own\n")},
				{"/etc/systemd/system/foo-.service.d/b.conf", []byte("[Service]\nGroup=etc-prefix\n")},
				{"/run/systemd/system/foo-bar.service.d/b.conf", []byte("[Service]\nGroup=run-own\n")},
				{"/etc/systemd/system/service.d/c.conf", []byte("[Service]\nNice=5\n")},
			},
			want: "User=vendor-own @/usr/lib/systemd/system/foo-bar.service.d/a.conf\n" +
				"Group=etc-prefix @/etc/systemd/system/foo-.service.d/b.conf\n" +
				"Nice=5 @/etc/systemd/system/service.d/c.conf\n",
		},
		{
			name:    "a shared list: an empty BindPaths= clears BindReadOnlyPaths= too; any Listen*= clears every listener",
			unit:    "[Service]\nBindReadOnlyPaths=/a\nBindPaths=/b\n",
			dropins: []DropIn{{"/etc/systemd/system/foo-bar.service.d/x.conf", []byte("[Service]\nBindPaths=\nBindReadOnlyPaths=/c\n")}},
			want:    "BindPaths= @/etc/systemd/system/foo-bar.service.d/x.conf\nBindReadOnlyPaths=/c @/etc/systemd/system/foo-bar.service.d/x.conf\n",
		},
		{
			name:    "dependencies and unknown settings are never dropped",
			unit:    "[Unit]\nWants=a.service\n[Service]\nSlice=foo.slice\nFrobnicate=1\n",
			dropins: []DropIn{{"/etc/systemd/system/foo-bar.service.d/x.conf", []byte("[Unit]\nWants=\n[Service]\nSlice=system.slice\nFrobnicate=\n")}},
			want: "Wants=a.service @unit\nSlice=foo.slice @unit\nFrobnicate=1 @unit\n" +
				"Wants= @/etc/systemd/system/foo-bar.service.d/x.conf\nSlice=system.slice @/etc/systemd/system/foo-bar.service.d/x.conf\nFrobnicate= @/etc/systemd/system/foo-bar.service.d/x.conf\n",
		},
		{
			name:    "a drop-in that fails to parse counts up to the bad line",
			unit:    "[Service]\nUser=u\n",
			dropins: []DropIn{{"/etc/systemd/system/foo-bar.service.d/x.conf", []byte("[Service]\nUser=a\n[Broken\nGroup=g\n")}},
			want:    "User=a @/etc/systemd/system/foo-bar.service.d/x.conf\n",
		},
		{
			name: "files that are not the unit's are left out",
			unit: "[Service]\nUser=u\n",
			dropins: []DropIn{
				{"/etc/systemd/system/other.service.d/x.conf", []byte("[Service]\nUser=other\n")},
				{"/etc/systemd/system/foo-bar.service.d/x.txt", []byte("[Service]\nUser=txt\n")},
				{"/etc/systemd/system/foo-bar.service.d/.hidden.conf", []byte("[Service]\nUser=hidden\n")},
				{"/srv/foo-bar.service.d/x.conf", []byte("[Service]\nUser=srv\n")},
			},
			want: "User=u @unit\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Merge([]string{"foo-bar.service"}, mustParse(t, tc.unit), paths, tc.dropins)
			if diff := cmp.Diff(tc.want, kept(got)); diff != "" {
				t.Errorf("(-want +got)\n%s\nproblems: %q", diff, got.Problems)
			}
		})
	}
}

// An instance reads its template's drop-ins; an alias's drop-ins apply to
// the unit it names, after the name's own.
func TestMergeInstancesAndAliases(t *testing.T) {
	got := Merge([]string{"web@1.service"}, mustParse(t, "[Service]\nUser=u\n"), paths, []DropIn{
		{"/etc/systemd/system/web@.service.d/a.conf", []byte("[Service]\nUser=template\n")},
		{"/etc/systemd/system/web@1.service.d/b.conf", []byte("[Service]\nGroup=instance\n")},
		{"/etc/systemd/system/web@2.service.d/c.conf", []byte("[Service]\nNice=2\n")},
	})
	if diff := cmp.Diff("User=template @/etc/systemd/system/web@.service.d/a.conf\nGroup=instance @/etc/systemd/system/web@1.service.d/b.conf\n", kept(got)); diff != "" {
		t.Errorf("instance (-want +got)\n%s", diff)
	}
	got = Merge([]string{"web.service", "www.service"}, mustParse(t, "[Service]\n"), paths, []DropIn{
		{"/run/systemd/system/web.service.d/a.conf", []byte("[Service]\nUser=name\n")},
		{"/etc/systemd/system/www.service.d/a.conf", []byte("[Service]\nUser=alias\n")},
		{"/etc/systemd/system/www.service.d/b.conf", []byte("[Service]\nGroup=alias\n")},
	})
	if diff := cmp.Diff("User=name @/run/systemd/system/web.service.d/a.conf\nGroup=alias @/etc/systemd/system/www.service.d/b.conf\n", kept(got)); diff != "" {
		t.Errorf("alias (-want +got)\n%s", diff)
	}
}

// The merge keeps only lines it was given, in their order, each with its
// file as origin, whatever the unit and the drop-ins hold.
func FuzzMerge(f *testing.F) {
	f.Add("foo-bar@x.service", []byte("[Service]\nUser=a\nExecStart=/a\nBindPaths=/x\n"), []byte("[Service]\nUser=\nExecStart=\nBindReadOnlyPaths=\n"), []byte("[Service]\nDelegate=\n[Unit]\nWants=\n"))
	f.Add("a--.socket", []byte("[Socket]\nListenStream=/run/a.sock\nReusePort=yes\n"), []byte("[Socket]\nListenFIFO=\nReusePort=maybe\n"), []byte("\xef\xbb\xbf[Socket\n"))
	f.Fuzz(func(t *testing.T, name string, unit, d1, d2 []byte) {
		u, err := Parse(unit)
		if err != nil {
			return
		}
		dropins := []DropIn{
			{Path: "/etc/systemd/system/" + name + ".d/a.conf", Data: d1},
			{Path: "/run/systemd/system/" + TypeDropInDir(name) + "/b.conf", Data: d2},
		}
		m := Merge([]string{name}, u, paths, dropins)
		given := map[string][]Assignment{"": u.Assignments}
		for _, d := range dropins {
			if f, _ := parse(d.Data); f != nil {
				given[d.Path] = f.Assignments
			}
		}
		last := map[string]int{}
		for _, a := range m.Assignments {
			lines, ok := given[a.Origin]
			if !ok {
				t.Fatalf("origin %q was not given", a.Origin)
			}
			found := -1
			for i := last[a.Origin]; i < len(lines); i++ {
				b := lines[i]
				b.Origin = a.Origin
				if b == a {
					found = i
					break
				}
			}
			if found < 0 {
				t.Fatalf("kept %+v, which its file does not hold (in this order)", a)
			}
			last[a.Origin] = found + 1
		}
	})
}
