package plan

import (
	"testing"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// The newest version of a name is tried first, by systemd's ordering
// (internal/vercmp, checked against systemd-analyze compare-versions): with
// foo_2.0.raw and foo_2.rc.raw systemd calls 2.0 newer, where an ordering
// that drops the zero before comparing kinds picks 2.rc.
func TestSelectNewestBySystemdOrder(t *testing.T) {
	for _, c := range []struct {
		versions []string
		newest   string
	}{
		{[]string{"2.rc", "2.0"}, "2.0"},
		{[]string{"1.9", "1.10"}, "1.10"},
		{[]string{"2", "2~rc1"}, "2"},
		{[]string{"2", "2^p1", "2-1"}, "2^p1"},
		{[]string{"", "0"}, "0"}, // an unversioned entry is the lowest
	} {
		var entries []host.Entry
		for _, v := range c.versions {
			p := "/var/lib/portables/foo_" + v + ".raw"
			if v == "" {
				p = "/var/lib/portables/foo.raw"
			}
			entries = append(entries, host.Entry{Name: "foo", Version: v, Rank: 2, Path: p, Kind: dissect.KindRaw})
		}
		chosen, lost := Select(entries)
		if len(chosen) != 1 || len(lost) != 0 {
			t.Fatalf("%v: chosen %v, lost %v", c.versions, chosen, lost)
		}
		if got := chosen[0][0].Version; got != c.newest {
			t.Errorf("%v: newest %q, want %q", c.versions, got, c.newest)
		}
	}
}
