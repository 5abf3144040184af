package dissect

// UnitDirectories are the directories inside an image where portabled looks
// for system unit files, highest precedence first: the first file of a given
// name wins. (The generator directories are listed because portabled lists
// them; an image rarely has them.)
var UnitDirectories = []string{
	"etc/systemd/system.control",
	"run/systemd/system.control",
	"run/systemd/transient",
	"run/systemd/generator.early",
	"etc/systemd/system",
	"etc/systemd/system.attached",
	"run/systemd/system",
	"run/systemd/system.attached",
	"run/systemd/generator",
	"usr/local/lib/systemd/system",
	"usr/lib/systemd/system",
	"lib/systemd/system",
	"run/systemd/generator.late",
}

// OSReleasePaths are where an image's os-release is looked up, in order,
// resolved inside the image.
var OSReleasePaths = []string{"etc/os-release", "usr/lib/os-release"}
