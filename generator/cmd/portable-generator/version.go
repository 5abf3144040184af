package main

import "runtime/debug"

// version is set by the build (just build, just deb) with
// -ldflags "-X main.version=...": the VCS tag, or the version in
// debian/changelog when the tree has no tag.
var version string

// buildVersion is the version to print: the one the build set, else the
// module version Go recorded (go install ...@vX), else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
