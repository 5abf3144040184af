package dissect

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Report is what `portable-generator dissect` prints. Its JSON keys and
// value shapes are those of Debian 12's `systemd-dissect --json=short`
// (systemd 252), plus Units, so scripts written for one read the other.
type Report struct {
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	OSRelease []string `json:"osRelease"`
	// ExtensionRelease is an extension image's release file, found by
	// the newest systemd's rules for the file's name, as 252's
	// systemd-dissect shows it.
	ExtensionRelease []string      `json:"extensionRelease,omitempty"`
	Mounts           []ReportMount `json:"mounts"`
	Units            []string      `json:"units"`
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
	PartNo         *int    `json:"partno"`
}

// Report describes the image; name is how the image is called in it (the
// file name, as systemd-dissect does).
func (img *Image) Report(name string) Report {
	r := Report{Name: filepath.Base(name), Size: img.Size, Kind: img.Kind, PartitionTable: img.PartitionTable,
		OSRelease: []string{}, Mounts: []ReportMount{}, Units: []string{}}
	if b, _, err := img.osReleaseBytes(); err == nil {
		if m, order, err := img.envSyntax().parse(b); err == nil {
			for _, k := range order {
				r.OSRelease = append(r.OSRelease, k+"="+m[k])
			}
		}
	}
	if er, err := img.ExtensionRelease(ExtensionName(name, img.Kind, 0), 0); err == nil {
		for _, k := range er.Keys {
			r.ExtensionRelease = append(r.ExtensionRelease, k+"="+er.Fields[k])
		}
	}
	for _, p := range img.Partitions {
		m := ReportMount{RW: "rw", Designator: string(p.Designator), FSType: p.FSType, GrowFS: p.GrowFS}
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

// WriteText prints the report for people, in the spirit of systemd-dissect.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "      Name: %s\n", r.Name)
	fmt.Fprintf(w, "      Kind: %s", r.Kind)
	if r.PartitionTable != "" {
		fmt.Fprintf(w, " (%s partition table)", r.PartitionTable)
	}
	fmt.Fprintln(w)
	if r.Size > 0 {
		fmt.Fprintf(w, "      Size: %d bytes\n", r.Size)
	}
	for i, kv := range r.OSRelease {
		label := "OS Release:"
		if i > 0 {
			label = "           "
		}
		fmt.Fprintf(w, "%s %s\n", label, kv)
	}
	for i, kv := range r.ExtensionRelease {
		label := "Ext. Rel.:"
		if i > 0 {
			label = "          "
		}
		fmt.Fprintf(w, " %s %s\n", label, kv)
	}
	for i, u := range r.Units {
		label := "     Units:"
		if i > 0 {
			label = "           "
		}
		fmt.Fprintf(w, "%s %s\n", label, path.Base(u))
	}
	if len(r.Mounts) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
		fmt.Fprintln(tw, "RW\tDESIGNATOR\tPARTITION UUID\tPARTITION LABEL\tFSTYPE\tARCHITECTURE\tVERITY\tGROWFS\tPARTNO")
		str := func(p *string) string {
			if p == nil {
				return "-"
			}
			return *p
		}
		for _, m := range r.Mounts {
			partno := "-"
			if m.PartNo != nil {
				partno = fmt.Sprint(*m.PartNo)
			}
			growfs := "no"
			if m.GrowFS {
				growfs = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.RW, m.Designator, str(m.PartitionUUID), str(m.PartitionLabel),
				m.FSType, str(m.Architecture), str(m.Verity), growfs, partno)
		}
		tw.Flush()
	}
}
