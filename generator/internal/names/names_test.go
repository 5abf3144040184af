package names

import (
	"slices"
	"strings"
	"testing"
)

func TestNamespace(t *testing.T) {
	prefixes := []string{"foobar", "foobar-web"}
	for _, c := range []struct {
		name            string
		inNamespace     bool
		matchUnit, best string
	}{
		{"foobar.service", true, "foobar", "foobar"},
		{"foobar-waldo.service", true, "foobar", "foobar"},
		{"foobar-web.socket", true, "foobar-web", "foobar-web"},
		{"foobar@.service", true, "foobar", "foobar"},
		{"foobar.helper.timer", true, "foobar", "foobar"},
		// '_' is a namespace separator (it splits NAME from VERSION), but
		// portabled does not copy such units.
		{"foobar_x.service", true, "", "foobar"},
		{"foobar", true, "foobar", "foobar"},
		{"foobarbaz.service", false, "", ""},
		{"Foobar.service", false, "", ""},
		{"foo.service", false, "", ""},
	} {
		if got := InNamespace(c.name, prefixes); got != c.inNamespace {
			t.Errorf("InNamespace(%q) = %v", c.name, got)
		}
		if got := MatchUnit(c.name, prefixes); got != c.matchUnit {
			t.Errorf("MatchUnit(%q) = %q, want %q", c.name, got, c.matchUnit)
		}
		if got := NamespacePrefix(c.name, prefixes); got != c.best {
			t.Errorf("NamespacePrefix(%q) = %q, want %q", c.name, got, c.best)
		}
	}
	if InNamespace("x", []string{""}) {
		t.Error("an empty prefix must own nothing")
	}
}

// TestPrefixesHolding: the prefixes a name takes away are exactly those
// in whose namespace InNamespace puts it, so the host inventory and the
// images are judged by one rule.
func TestPrefixesHolding(t *testing.T) {
	for _, c := range []struct {
		name string
		want []string
	}{
		{"dbus.service", []string{"dbus", "dbus.service"}},
		{"systemd-journald@x.service", []string{"systemd", "systemd-journald", "systemd-journald@x", "systemd-journald@x.service"}},
		{"a_b", []string{"a", "a_b"}},
		{"-x", []string{"-x"}}, // a leading separator ends no prefix
		{"", nil},
	} {
		got := PrefixesHolding(c.name)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("PrefixesHolding(%q) = %q, want %q", c.name, got, c.want)
		}
		for i := 1; i <= len(c.name); i++ {
			p := c.name[:i]
			if held := slices.Contains(got, p); held != InNamespace(c.name, []string{p}) {
				t.Errorf("%q: prefix %q held %v, but InNamespace says %v", c.name, p, held, !held)
			}
		}
	}
}

func TestUnitNames(t *testing.T) {
	for _, c := range []struct {
		name  string
		valid bool
	}{
		{"foo.service", true},
		{"foo@.service", true},
		{"foo@bar.service", true},
		{"foo.mount", false},
		{"@.service", false},
		{"foo/bar.service", false},
		{"../x.service", false},
		{"foo@a/b.service", false},
		{"foo@..service", true}, // an instance of "." is valid for systemd too, and holds no '/'
	} {
		if got := ValidUnitName(c.name); got != c.valid {
			t.Errorf("ValidUnitName(%q) = %v", c.name, got)
		}
	}
	if !ValidAnyUnitName("multi-user.target") || ValidAnyUnitName("a/b.target") {
		t.Error("ValidAnyUnitName")
	}
	if ValidInstance("../../etc") || ValidInstance("") || !ValidInstance("tty1") {
		t.Error("ValidInstance")
	}
	if got := TemplateOf("getty@tty1.service"); got != "getty@.service" {
		t.Errorf("TemplateOf = %q", got)
	}
	if got := TemplateOf("getty.service"); got != "" {
		t.Errorf("TemplateOf(plain) = %q", got)
	}
	if got := InstanceName("foo@.service", "a"); got != "foo@a.service" {
		t.Errorf("InstanceName = %q", got)
	}
}

func TestDynamicUserName(t *testing.T) {
	for unit, want := range map[string]string{
		"messagebus.service": "messagebus",
		"www-data.service":   "www-data",
		"foo@bar.service":    "foo",
		"foo.bar.service":    "", // '.' is not allowed in a strict user name: systemd hashes it
		"1foo.service":       "",
	} {
		if got := DynamicUserName(unit); got != want {
			t.Errorf("DynamicUserName(%q) = %q, want %q", unit, got, want)
		}
	}
}

func TestSplitEntryName(t *testing.T) {
	for entry, want := range map[string][3]string{
		"foo_1.2.raw": {"foo", "1.2", ".raw"},
		"foo.raw":     {"foo", "", ".raw"},
		"foo":         {"foo", "", ""},
		"foo.v":       {"foo", "", ".v"},
		"foo.raw.v":   {"foo", "", ".raw.v"},
	} {
		n, v, s := SplitEntryName(entry)
		if [3]string{n, v, s} != want {
			t.Errorf("SplitEntryName(%q) = %q %q %q", entry, n, v, s)
		}
	}
}
