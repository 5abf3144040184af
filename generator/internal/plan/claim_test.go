package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// Claim= makes a name outside the image's prefix the image's own for the
// policy, never the host's: an account or directory the host holds stays
// refused with the host check's reason, and a name it does not hold
// attaches.
func TestClaimDoesNotLiftHostHoldings(t *testing.T) {
	unit := "[Service]\nExecStart=/usr/bin/redis-server\nUser=redis\nStateDirectory=redis\nRuntimeDirectory=redis\n"
	for _, tc := range []struct {
		name string
		inv  host.Inventory
		want string // a part of the host check's reason; "" to attach
	}{
		{"held by nobody", host.Inventory{}, ""},
		{"the host's account", host.Inventory{Accounts: map[string]string{"redis": "/etc/passwd"}},
			"unit redis-server.service: User= claims redis, which the host holds (account redis in /etc/passwd)"},
		{"the host's state directory", host.Inventory{Paths: map[string]string{"/var/lib/redis": "directory"}},
			"unit redis-server.service: StateDirectory= claims /var/lib/redis, which the host holds (directory /var/lib/redis)"},
		{"the host's runtime directory", host.Inventory{Paths: map[string]string{"/run/redis": "directory"}},
			"unit redis-server.service: RuntimeDirectory= claims /run/redis, which the host holds (directory /run/redis)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := goodImage()
			img.Name, img.Path = "redis-server", "/var/lib/portables/redis-server.raw"
			img.Settings.Claim = []string{"redis"}
			img.Units = []host.Unit{{Name: "redis-server.service", Content: []byte(unit)}}
			tc.inv.Architecture = "x86-64"
			p := Image(&img, &tc.inv, ProfileParses{})
			if tc.want == "" {
				if p.Skipped() {
					t.Fatalf("Claim=redis with nothing of the name on the host: skipped: %s", p.Report.Reason)
				}
				return
			}
			var held *HostHoldsError
			if !p.Skipped() || !errors.As(p.Report.Err, &held) || !strings.Contains(p.Report.Reason, tc.want) {
				t.Errorf("Claim=redis on a host holding it: %s: %s, want the host's reason %q", p.Report.State, p.Report.Reason, tc.want)
			}
		})
	}
}
