package plan

import (
	"errors"
	"strings"
	"testing"
)

// A panic while planning one image (a bug, reached by that image's text)
// skips that image with a reason naming the crash, and nothing of it is
// written; the run goes on with the others. A nil inventory makes the host
// check panic here.
func TestPlanningCrashSkipsTheImage(t *testing.T) {
	img := goodImage()
	p := Image(&img, nil, ProfileParses{})
	if !p.Skipped() || !errors.Is(p.Report.Err, ErrPlanCrashed) {
		t.Fatalf("planning that panicked: %s %q, want skipped for %v", p.Report.State, p.Report.Reason, ErrPlanCrashed)
	}
	if !strings.Contains(p.Report.Reason, "please report it") || p.Report.Name != img.Name {
		t.Errorf("reason %q for %q", p.Report.Reason, p.Report.Name)
	}
	if len(p.Files) != 0 || len(p.Claims) != 0 {
		t.Errorf("a crashed plan keeps files %v and claims %v", p.Files, p.Claims)
	}
}
