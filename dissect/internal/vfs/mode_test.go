package vfs

import (
	"io/fs"
	"testing"
)

func TestModes(t *testing.T) {
	for _, c := range []struct {
		m    uint16
		want fs.FileMode
		ok   bool
	}{
		{0o100644, 0o644, true},
		{0o104755, fs.ModeSetuid | 0o755, true},
		{0o041777, fs.ModeDir | fs.ModeSticky | 0o777, true},
		{0o120777, fs.ModeSymlink | 0o777, true},
		{0o022660, fs.ModeDevice | fs.ModeCharDevice | fs.ModeSetgid | 0o660, true},
		{0o060600, fs.ModeDevice | 0o600, true},
		{0o010644, fs.ModeNamedPipe | 0o644, true},
		{0o140755, fs.ModeSocket | 0o755, true},
		{0o000644, 0, false},
		{0o170644, 0, false},
	} {
		if got, ok := PosixMode(c.m); got != c.want || ok != c.ok {
			t.Errorf("PosixMode(%#o) = %v, %v; want %v, %v", c.m, got, ok, c.want, c.ok)
		}
	}
	for typ, want := range map[uint8]fs.FileMode{1: 0, 2: fs.ModeDir, 7: fs.ModeSymlink, 6: fs.ModeSocket} {
		if got, ok := DirentType(typ); !ok || got != want {
			t.Errorf("DirentType(%d) = %v, %v", typ, got, ok)
		}
	}
	for _, typ := range []uint8{0, 8, 255} {
		if _, ok := DirentType(typ); ok {
			t.Errorf("DirentType(%d) is known", typ)
		}
	}
}
