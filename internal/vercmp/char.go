package vercmp

import "runtime"

// charIsSigned says whether C's plain char is signed on this architecture
// (in its Linux ABI), as systemd, written in C, sees it.
func charIsSigned() bool {
	switch runtime.GOARCH {
	case "386", "amd64", "loong64", "sparc64", "mips", "mipsle", "mips64", "mips64le":
		return true
	}
	return false
}
