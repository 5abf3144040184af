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
