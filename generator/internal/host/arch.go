package host

// knownArchitecture reports whether s is an architecture name systemd uses
// in vpick file names.
func knownArchitecture(s string) bool {
	switch s {
	case "x86-64", "x86_64", "amd64", "x86", "arm64", "aarch64", "arm", "riscv32", "riscv64",
		"ppc", "ppc64", "ppc64-le", "s390", "s390x", "loongarch64", "mips-le", "mips64-le",
		"alpha", "arc", "ia64", "parisc", "tilegx":
		return true
	}
	return false
}

// sameArchitecture compares names allowing systemd's aliases.
func sameArchitecture(a, b string) bool {
	norm := func(s string) string {
		switch s {
		case "x86_64", "amd64":
			return "x86-64"
		case "aarch64":
			return "arm64"
		}
		return s
	}
	return norm(a) == norm(b)
}
