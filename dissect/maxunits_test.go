package dissect

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// An image may attach at most MaxUnits unit files: one more, and the whole
// image is refused as over budget (not cut to the first MaxUnits, which
// would attach an arbitrary part of it).
func TestMaxUnits(t *testing.T) {
	tree := func(n int) fstest.MapFS {
		fsys := fstest.MapFS{}
		for i := range n {
			fsys[fmt.Sprintf("usr/lib/systemd/system/app-%05d.service", i)] = &fstest.MapFile{Data: []byte("[Service]\nExecStart=/bin/true\n")}
		}
		// Not the image's: never counted.
		fsys["usr/lib/systemd/system/other.service"] = &fstest.MapFile{Data: []byte("[Service]\n")}
		return fsys
	}
	keep := func(name string) bool { return strings.HasPrefix(name, "app") }
	units, err := Units(tree(MaxUnits), keep)
	if err != nil || len(units) != MaxUnits {
		t.Fatalf("%d units: got %d, %v", MaxUnits, len(units), err)
	}
	_, err = Units(tree(MaxUnits+1), keep)
	if !errors.Is(err, ErrTooManyUnits) || !errors.Is(err, ErrBudget) {
		t.Fatalf("%d units: %v, want ErrTooManyUnits, an ErrBudget", MaxUnits+1, err)
	}
	t.Log(err)
}
