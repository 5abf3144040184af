package plan

import (
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// TestAccountPrefixHolderIsStable: when several host accounts start with
// an image's claimed prefix, the reason names the first by name at every
// run, whatever the map's order.
func TestAccountPrefixHolderIsStable(t *testing.T) {
	inv := &host.Inventory{Accounts: map[string]string{
		"foo-d": "/etc/passwd", "foo-b": "/etc/group", "foo-a": "/etc/passwd", "foo-c": "/etc/passwd", "bar": "/etc/passwd",
	}}
	for i := 0; i < 50; i++ {
		if got, want := accountPrefixHolder(inv, "foo-"), "account foo-a in /etc/passwd"; got != want {
			t.Fatalf("accountPrefixHolder(foo-) = %q, want %q", got, want)
		}
	}
}
