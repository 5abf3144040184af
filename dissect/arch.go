package dissect

import "runtime"

// goArchToSystemd maps Go's architecture names to systemd's (as in
// ConditionArchitecture=, partition type tables and image file names).
var goArchToSystemd = map[string]string{
	"amd64": "x86-64", "386": "x86", "arm64": "arm64", "arm": "arm",
	"riscv64": "riscv64", "ppc64le": "ppc64-le", "ppc64": "ppc64",
	"s390x": "s390x", "loong64": "loongarch64", "mips64le": "mips64-le",
}

// NativeArchitecture is the architecture this program runs on, in
// systemd's naming.
func NativeArchitecture() string {
	if a, ok := goArchToSystemd[runtime.GOARCH]; ok {
		return a
	}
	return runtime.GOARCH
}

// SecondaryArchitecture is the one a native machine also runs ("x86" on
// "x86-64"), "" if none: systemd takes its partitions after native ones.
func SecondaryArchitecture(native string) string {
	if native == "x86-64" {
		return "x86"
	}
	return ""
}
