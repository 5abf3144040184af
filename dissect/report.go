package dissect

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// Report is what `portable-generator dissect` prints. Its JSON has every
// key of Debian 12's `systemd-dissect --json=short` (systemd 252), with the
// same value shapes, plus Units, Kind and PartitionTable, so scripts
// written for one read the other.
type Report struct {
	Name        string   `json:"name"`
	Size        int64    `json:"size"`
	Hostname    string   `json:"hostname,omitempty"`
	MachineID   string   `json:"machineId,omitempty"`
	MachineInfo []string `json:"machineInfo,omitempty"`
	OSRelease   []string `json:"osRelease"`
	// ExtensionRelease is an extension image's release file, found by
	// the newest systemd's rules for the file's name, as 252's
	// systemd-dissect shows it.
	ExtensionRelease []string `json:"extensionRelease,omitempty"`
	// What the image can be used as. UsePortableService is true when
	// os-release sets PORTABLE_PREFIXES=, as systemd decides from 255 on;
	// 252 looks for a PORTABLE_MATCHES= no image sets, and says false.
	UseBootableUEFI      bool          `json:"useBootableUefi"`
	UseBootableContainer bool          `json:"useBootableContainer"`
	UsePortableService   bool          `json:"usePortableService"`
	UseSystemExtension   bool          `json:"useSystemExtension"`
	UseInitRDExtension   bool          `json:"useInitRDExtension"`
	UsePortableExtension bool          `json:"usePortableExtension"`
	Mounts               []ReportMount `json:"mounts"`
	Units                []string      `json:"units"`
	// Kind and PartitionTable go beyond systemd-dissect: a directory image
	// and the table type are worth seeing.
	Kind           Kind   `json:"kind"`
	PartitionTable string `json:"partitionTable"`
}

// ReportMount is one partition, as systemd-dissect's "mounts" entries.
type ReportMount struct {
	RW             string  `json:"rw"`
	Designator     string  `json:"designator"`
	PartitionUUID  *string `json:"partition_uuid"`
	PartitionLabel *string `json:"partition_label"`
	FSType         string  `json:"fstype"`
	Architecture   *string `json:"architecture"`
	Verity         *string `json:"verity"`
	GrowFS         bool    `json:"growfs"`
	// Node is the device systemd would mount: for a naked file system the
	// image as named; a partition's would be a loop device's, which the
	// reader never sets up: null.
	Node   *string `json:"node"`
	PartNo *int    `json:"partno"`
}

// Report describes the image; name is how the image is called in it (the
// file name, as systemd-dissect does).
func (img *Image) Report(name string) Report {
	r := Report{Name: filepath.Base(name), Size: img.Size, Kind: img.Kind, PartitionTable: img.PartitionTable,
		Hostname: img.Hostname(), MachineID: img.MachineID(), MachineInfo: img.MachineInfo(),
		UseBootableContainer: img.HasInitSystem(),
		OSRelease:            []string{}, Mounts: []ReportMount{}, Units: []string{}}
	if b, _, err := img.osReleaseBytes(); err == nil {
		if m, order, err := img.envSyntax().parse(b); err == nil {
			for _, k := range order {
				r.OSRelease = append(r.OSRelease, k+"="+m[k])
			}
			_, r.UsePortableService = m["PORTABLE_PREFIXES"]
		}
	}
	if er, err := img.ExtensionRelease(ExtensionName(name, img.Kind, 0), 0); err == nil {
		for _, k := range er.Keys {
			r.ExtensionRelease = append(r.ExtensionRelease, k+"="+er.Fields[k])
		}
		// SYSEXT_SCOPE names where the extension may be used; unset, it
		// is the system and portable services.
		scopes := strings.Fields(er.Fields["SYSEXT_SCOPE"])
		if _, set := er.Fields["SYSEXT_SCOPE"]; !set {
			scopes = []string{"system", "portable"}
		}
		r.UseSystemExtension = slices.Contains(scopes, "system")
		r.UseInitRDExtension = slices.Contains(scopes, "initrd")
		r.UsePortableExtension = slices.Contains(scopes, "portable")
	}
	for _, p := range img.Partitions {
		m := ReportMount{RW: "rw", Designator: string(p.Designator), FSType: p.FSType, GrowFS: p.GrowFS}
		if p.Designator == "esp" {
			r.UseBootableUEFI = true
		}
		if img.PartitionTable == "" {
			m.Node = ptr(name)
		}
		if p.ReadOnly {
			m.RW = "ro"
		}
		if p.UUID != "" && img.PartitionTable == "gpt" { // systemd-dissect names no MBR partition UUID
			m.PartitionUUID = ptr(p.UUID)
		}
		if p.Label != "" {
			m.PartitionLabel = ptr(p.Label)
		}
		if p.Architecture != "" {
			m.Architecture = ptr(p.Architecture)
		}
		if p.Number > 0 {
			m.PartNo = ptr(p.Number)
		}
		if v := img.Verity; v != nil && string(p.Designator) == string(v.Designator) {
			// systemd-dissect's words: a hash tree in a sidecar file is
			// "external" (it outranks "signed" there too); otherwise
			// "signed" or "yes". Where 252 cannot guess the hash from
			// partition UUIDs it says "no"; we know it and say "yes".
			switch {
			case v.HashTree != "":
				m.Verity = ptr("external")
			case v.signed():
				m.Verity = ptr("signed")
			case v.RootHash != "":
				m.Verity = ptr("yes")
			}
		}
		if m.Verity == nil && img.PartitionTable != "" && (p.Designator == "root" || p.Designator == "usr") {
			// A partition that could have verity but has none: systemd
			// says so in a partitioned image, and leaves it blank in a
			// naked file system.
			m.Verity = ptr("no")
		}
		r.Mounts = append(r.Mounts, m)
	}
	seen := map[string]bool{}
	for _, d := range UnitDirectories {
		ents, err := fs.ReadDir(img.FS(), d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if strings.Contains(e.Name(), ".") && !e.IsDir() && !seen[e.Name()] {
				seen[e.Name()] = true
				r.Units = append(r.Units, e.Name())
			}
		}
	}
	return r
}

func ptr[T any](v T) *T { return &v }
