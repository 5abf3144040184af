package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/policy"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Every refused line of every unit reaches the report, in unit order; a
// host drop-in that resets a line lifts its refusal; a Claim= the host
// would refuse is not offered.
func TestEveryRefusalReported(t *testing.T) {
	img := goodImage()
	img.Units = []host.Unit{
		{Name: "foo.service", Content: []byte("[Service]\nExecStart=+/bin/foo\nUser=bar\nEnvironmentFile=/etc/foo\n")},
		{Name: "foo.socket", Content: []byte("[Socket]\nListenStream=/run/baz/foo.sock\n")},
	}
	inv := &host.Inventory{Architecture: "x86-64", Accounts: map[string]string{"bar": "/etc/passwd"},
		DropIns: map[string][]unitfile.DropIn{"foo.service.d": {{Path: "/etc/systemd/system/foo.service.d/override.conf", Data: []byte("[Service]\nEnvironmentFile=\n")}}}}
	p := Image(&img, inv, ProfileParses{})
	var r policy.Refusals
	if !p.Skipped() || !errors.As(p.Report.Err, &r) {
		t.Fatalf("not refused: %v", p.Report.Err)
	}
	var got []string
	for _, v := range p.Report.Refusals {
		got = append(got, v.Unit+" "+v.Directive+" "+v.Claim)
	}
	want := "foo.service ExecStart |foo.service User |foo.socket ListenStream Claim=baz"
	if strings.Join(got, "|") != want {
		t.Errorf("refusals %q, want %q", strings.Join(got, "|"), want)
	}
	if !strings.HasPrefix(p.Report.Reason, "3 lines refused: unit foo.service: ExecStart=+/bin/foo ") {
		t.Errorf("reason %q", p.Report.Reason)
	}
}

// An admin's drop-in named like one of ours, in a directory PID 1 reads
// before the generator's, replaces ours: the report says so. One in the
// type's directory, or below ours, does not.
func TestReplacedDropInsNoticed(t *testing.T) {
	img := goodImage()
	inv := &host.Inventory{Architecture: "x86-64", DropIns: map[string][]unitfile.DropIn{
		"foo.service.d": {
			{Path: "/etc/systemd/system/foo.service.d/10-profile.conf", Data: []byte("[Service]\n")},
			{Path: "/usr/lib/systemd/system/foo.service.d/20-portable.conf", Data: []byte("[Service]\n")},
		},
		"service.d": {{Path: "/run/systemd/system/service.d/20-portable.conf", Data: []byte("[Service]\n")}},
	}}
	p := Image(&img, inv, ProfileParses{})
	want := []string{"foo.service: the admin's /etc/systemd/system/foo.service.d/10-profile.conf replaces the generator's 10-profile.conf"}
	if p.Skipped() || strings.Join(p.Report.Notices, "|") != strings.Join(want, "|") {
		t.Errorf("notices %q (skipped: %v), want %q", p.Report.Notices, p.Report.Reason, want)
	}
}
